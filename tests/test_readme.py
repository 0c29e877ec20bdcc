"""Every Python example of the README runs, as written, against FakeWise.

Each block is executed in its own namespace (top-level ``await`` allowed; a block that calls
``asyncio.run`` runs in a thread, as a script would). Shared set-up only fills what the README leaves to
the reader:

* ``WiseClient`` reaches a FakeWise (its in-process transport and clock) instead of Wise's hosts; the
  README's ``personal_token="..."`` is a token the fake knows, and ``access_token=...`` (the Ellipsis)
  and friends are filled with a user token pair and OAuth client the fake issued;
* the free names a block uses (``wise``, ``profile_id``, ``transfer_id``, ``ui``, ``db`` ...) are real
  objects: a client, ids of resources that exist in the fake, recorders for callbacks. A block whose
  free name is not listed in ``World.placeholders`` fails with a ``NameError``: add it there;
* ``test_*`` functions a block defines are called.

After a block has run, ``CHECKS`` asserts what it must have done (keyed by a phrase of the block).
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import contextlib
import datetime
import io
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest
from client.helpers import quote_and_recipient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from wise_api.models import (
    TransferCreateBody,
    TransferFundBody,
)

import wise_async
import wise_async.webhooks
from examples.fastapi_service import create_app as example_app
from wise_async import PrivateKeyScaSigner, WiseClient
from wise_async.cards import build_card_encrypted_payload
from wise_async.jose import JoseKeyring
from wise_async.testing import FakeJose, FakeWise

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")
CLIENT_ID, CLIENT_SECRET = "readme-client", "readme-secret"
PLACEHOLDER_TOKEN = "..."  # the README's personal_token="..."
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.4\n% readme fixture\n"


@dataclass(frozen=True)
class Block:
    index: int
    heading: str
    source: str

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return f"{self.index:02}-{slug}"


def readme_blocks() -> list[Block]:
    blocks, heading = [], ""
    pattern = re.compile(r"^(#{2,4}) ([^\n]+)$|^```python\n(.*?)^```", flags=re.MULTILINE | re.DOTALL)
    for match in pattern.finditer(TEXT):
        if match.group(2):
            heading = match.group(2)
        else:
            blocks.append(Block(len(blocks), heading, match.group(3)))
    return blocks


BLOCKS = readme_blocks()


class Recorder:
    """A callback or an object of the reader's app (``db.store``, ``save``): records every call."""

    def __init__(self, result: Any = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.result = result

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(args)
        return self.result


class AsyncRecorder(Recorder):
    async def __call__(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().__call__(*args, **kwargs)


class Database:
    def __init__(self) -> None:
        self.store = AsyncRecorder()


class UserInterface:
    def __init__(self, fake: FakeWise) -> None:
        self.fake = fake

    async def ask_user_for_pin(self) -> str:
        return "1234"

    async def ask_user_for_sms_code(self) -> str:
        return self.fake.otp_code


class Device:
    def fingerprint(self) -> str:
        return "device-3f6c1e"


@dataclass
class World:
    """The fake, the clients and the placeholders one README block runs with."""

    fake: FakeWise
    jose: FakeJose
    user_key: rsa.RSAPrivateKey
    monkeypatch: pytest.MonkeyPatch
    placeholders: dict[str, Any] = field(default_factory=dict)
    clients: list[WiseClient] = field(default_factory=list)

    def filled(self, name: str, value: Any) -> Any:
        """``access_token=...`` and the like in the README: a value the fake accepts."""
        if value is not Ellipsis:
            return value
        if name in ("access_token", "refresh_token"):
            return self.placeholders[name]
        if name == "client_id":
            return CLIENT_ID
        if name == "client_secret":
            return CLIENT_SECRET
        raise AssertionError(f"the README passes {name}=... and test_readme has no value for it")

    def client_class(self) -> type[WiseClient]:
        world = self

        class ReadmeWiseClient(WiseClient):
            """``WiseClient`` as the README writes it, reaching the fake instead of Wise."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs = {name: world.filled(name, value) for name, value in kwargs.items()}
                kwargs.setdefault("transport", world.fake.transport())
                kwargs.setdefault("clock", world.fake.clock.now)
                super().__init__(*args, **kwargs)
                world.clients.append(self)

        return ReadmeWiseClient


@pytest.fixture(scope="module")
def user_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def world(
    user_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[World]:
    fake = FakeWise()
    jose = FakeJose.attach(fake)
    fake.add_client(CLIENT_ID, CLIENT_SECRET)
    fake.add_personal_token(PLACEHOLDER_TOKEN)
    fake.register_sca_public_key(
        user_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    world = World(fake, jose, user_key, monkeypatch)
    monkeypatch.setattr(wise_async, "WiseClient", world.client_class())
    monkeypatch.chdir(tmp_path)  # files the examples read and write
    for name, content in {"passport.pdf": PDF, "statement.pdf": PDF, "selfie.jpg": JPEG}.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "receipt.pdf").write_bytes(PDF)
    try:
        world.placeholders = await placeholders(world, tmp_path)
        yield world
    finally:
        for client in world.clients:
            await client.aclose()


async def placeholders(world: World, tmp_path: Path) -> dict[str, Any]:
    fake, jose = world.fake, world.jose
    tokens = fake.issue_user_token(client_id=CLIENT_ID)
    pair = {"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]}
    world.placeholders.update(pair)
    pem = world.user_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    wise = world.client_class()(
        **pair,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        sca_handler=PrivateKeyScaSigner(pem),
    )
    transfer_id = await unfunded_transfer(wise, fake)
    start = datetime.datetime.fromtimestamp(fake.clock.now(), datetime.timezone.utc) - datetime.timedelta(
        days=90
    )
    end = start + datetime.timedelta(days=60)
    card = jose.add_card(pan="4396910000012345", cvv="739", pin="8264")
    device_payload, _ = build_card_encrypted_payload(
        {"nonce": str(uuid.uuid4())},
        jose.card_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        key_version=jose.card_key_version,
    )
    code, redirect_uri, email, registration_code = (
        "auth-code",
        "https://app.example/cb",
        "ada@example.com",
        "rc",
    )
    fake.add_authorization_code(code, redirect_uri=redirect_uri, client_id=CLIENT_ID)
    fake.add_registration_code(email, registration_code, client_id=CLIENT_ID)
    connect_uri, session_state = "https://app.example/wise/callback", "state-5f1c"
    fake.add_authorization_code("connect-code", redirect_uri=connect_uri, client_id=CLIENT_ID)
    quote_id, recipient_id = await quote_and_recipient(wise, fake)
    return {
        **pair,
        "wise": wise,
        "private_key_pem": pem,
        "expires_at": fake.clock.now() + tokens["expires_in"],
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": code,
        "redirect_uri": redirect_uri,
        "email": email,
        "registration_code": registration_code,
        "db": Database(),
        "user_id": fake.user_id,
        "ui": UserInterface(fake),
        "device": Device(),
        "pid": fake.personal_profile_id,
        "profile_id": fake.personal_profile_id,
        "transfer_id": transfer_id,
        "body": TransferFundBody(type_="BALANCE"),
        "fund_body": TransferFundBody(type_="BALANCE"),
        "clear_challenges": ScaChallengeClearer(fake),
        "save": Recorder(),
        "checkpoint": Recorder(),
        "a": start,
        "b": end,
        "start": start,
        "end": end,
        "quote_id": str(quote_id),
        "recipient_id": recipient_id,
        "stored_key": str(uuid.uuid4()),
        "session_state": session_state,
        "callback_url": f"{connect_uri}?code=connect-code&state={session_state}"
        f"&profileId={fake.personal_profile_id}",
        "ten_years_later": start + datetime.timedelta(days=3653),
        "balance_id": fake.seed_statement_transactions(60, start=start, end=end, currency="EUR"),
        "card_token": card.token,
        "card_order_id": jose.add_card_order().order_id,
        "jwe_from_device": device_payload["encryptedPayload"],
        "photo_bytes": JPEG,
        "path": tmp_path / "receipt.pdf",
        "review_id": fake.seed_kyc_reviews(1)[0],
        "on_transfer_state": AsyncRecorder(),
        "create_app": lambda **keys: example_app(lambda: wise, **keys),
        # what earlier blocks imported
        "WiseClient": world.client_class(),
        "FakeWise": FakeWise,
    }


class ScaChallengeClearer(AsyncRecorder):
    """The reader's app clearing an SCA challenge with its user: here, the fake approves the token."""

    def __init__(self, fake: FakeWise) -> None:
        super().__init__()
        self.fake = fake

    async def __call__(self, error: Any) -> None:  # type: ignore[override]
        self.calls.append((error,))
        self.fake.approve_ott(error.one_time_token)


async def unfunded_transfer(wise: WiseClient, fake: FakeWise) -> int:
    quote_id, recipient_id = await quote_and_recipient(wise, fake)
    transfer = await wise.transfers.create(
        body=TransferCreateBody(
            target_account=recipient_id, quote_uuid=quote_id, customer_transaction_id=uuid.uuid4()
        )
    )
    assert isinstance(transfer.id, int)
    return transfer.id


def free_names(source: str) -> set[str]:
    """Names a block reads without binding them itself (best effort: what the placeholders must fill)."""
    tree = ast.parse(source)
    bound = {
        node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            bound.add(node.name)
    read = {
        node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    return read - bound - set(dir(builtins))


async def run_block(block: Block, namespace: dict[str, Any]) -> str:
    """Execute the block as written; returns what it printed."""
    code = compile(
        block.source, f"README.md block {block.index}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    )
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        if code.co_flags & 0x80:  # CO_COROUTINE: top-level await, run in this loop
            await eval(code, namespace)
        else:  # a script (maybe calling asyncio.run): its own thread, as `python script.py` would
            await anyio.to_thread.run_sync(exec, code, namespace)
        for name, value in list(namespace.items()):
            if name.startswith("test_") and callable(value):
                result = value()
                if isinstance(result, Awaitable):
                    await result
    return output.getvalue()


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 14
    assert BLOCKS[0].heading == "Quickstart"


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
async def test_readme_example_runs(block: Block, world: World, redis_url: str) -> None:
    namespace: dict[str, Any] = {"__name__": f"readme_block_{block.index}", **world.placeholders}
    for phrase, prepare in PREPARE.items():
        if phrase in block.source:
            await prepare(world, namespace)
    missing = free_names(block.source) - set(namespace)
    assert not missing, f"README block {block.id} uses {sorted(missing)}: give them values in test_readme"
    printed = await run_block(block, namespace)
    checked = [check for phrase, check in CHECKS.items() if phrase in block.source]
    for check in checked:
        await check(world, namespace, printed)


# ---------------------------------------------------------------- per-block set-up and checks

Prepare = Callable[[World, dict[str, Any]], Awaitable[None]]
Check = Callable[[World, dict[str, Any], str], Awaitable[None]]


async def default_sca_client(world: World, namespace: dict[str, Any]) -> None:
    """The 'default: raise' example needs a client without an SCA handler."""
    namespace["wise"] = world.client_class()(
        access_token=world.placeholders["access_token"],
        refresh_token=world.placeholders["refresh_token"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )


async def inr_transfer(world: World, namespace: dict[str, Any]) -> None:
    """The downloads example fetches an NOC, which Wise has only for transfers to INR."""
    namespace["transfer_id"] = world.fake.seed_transfers(1, target_currency="INR")[0]


async def sca_factors_unset(world: World, namespace: dict[str, Any]) -> None:
    """The JOSE factors example creates the user's PIN: the fake's seeded one is removed first, and the
    funding it shows is challenged for PIN and device fingerprint."""
    world.fake.set_pin(None)
    world.fake.sca_challenges = ["PIN", "PARTNER_DEVICE_FINGERPRINT"]


async def jose_client(world: World, namespace: dict[str, Any]) -> None:
    """The raw JOSE example needs a client whose keys Wise (the fake) knows."""
    keys = JoseKeyring.generate()
    client = world.client_class()(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, jose_keys=keys)
    await client.jose_keys.upload_public_key("PAYLOAD_ENCRYPTION")
    await client.jose_keys.upload_public_key("PAYLOAD_SIGNING")
    namespace["wise"] = client


async def webhook_keys_of_fake(world: World, namespace: dict[str, Any]) -> None:
    """Deliveries the fake signs must verify where the README says environment="production"."""
    keys = dict(wise_async.webhooks.WISE_WEBHOOK_PUBLIC_KEYS)
    keys["production"] = (world.fake.webhooks.public_key_b64,)
    world.monkeypatch.setattr(wise_async.webhooks, "WISE_WEBHOOK_PUBLIC_KEYS", keys)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A real redis-server (installed by make install), started only if a README block needs it."""
    from fleet.servers import RedisServer

    server: RedisServer | None = None

    def start() -> str:
        nonlocal server
        server = server or RedisServer()
        return server.url

    REDIS_URL.append(start)
    yield "started on demand"
    REDIS_URL.clear()
    if server is not None:
        server.stop()


REDIS_URL: list[Callable[[], str]] = []


async def fleet_environment(world: World, namespace: dict[str, Any]) -> None:
    """The Redis example reads its settings from the environment; a real redis-server backs it."""
    from cryptography.fernet import Fernet

    for name, value in {
        "REDIS_URL": REDIS_URL[0](),
        "TOKEN_KEY": Fernet.generate_key().decode(),
        "WISE_CLIENT_ID": CLIENT_ID,
        "WISE_CLIENT_SECRET": CLIENT_SECRET,
        "WISE_REDIRECT_URI": world.placeholders["redirect_uri"],
    }.items():
        world.monkeypatch.setenv(name, value)
    namespace["audit_refresh"] = AsyncRecorder()


PREPARE: dict[str, Prepare] = {
    "RedisTokenStore(redis": fleet_environment,
    "wise.files.noc(transfer_id)": inr_transfer,
    "except ScaRequiredError as err": default_sca_client,
    'sca_pins.create(pid, body=json.dumps({"pin"': sca_factors_unset,
    '"X-TW-JOSE-Method": "jws+jwe"': jose_client,
    'webhook_dependency(environment="production")': webhook_keys_of_fake,
}


async def quickstart(world: World, namespace: dict[str, Any], printed: str) -> None:
    transfer_id, status = printed.split()
    assert world.fake.transfers.record(int(transfer_id)) is not None
    assert status == world.fake.transfers.record(int(transfer_id))["status"]  # type: ignore[index]


async def authentication(world: World, namespace: dict[str, Any], printed: str) -> None:
    assert namespace["tokens"].access_token
    assert world.fake.counters["grant:authorization_code"] == 1
    assert world.fake.counters["grant:registration_code"] == 1


async def sca_resumed(world: World, namespace: dict[str, Any], printed: str) -> None:
    assert namespace["payment"].status.value == "COMPLETED"
    assert len(namespace["clear_challenges"].calls) == 1
    assert "PIN" in printed and world.fake.last_ott not in printed


async def paging(world: World, namespace: dict[str, Any], printed: str) -> None:
    assert len(namespace["save"].calls) >= 1 and namespace["checkpoint"].calls[-1] == (None,)
    assert namespace["first"].number == 1


async def statements(world: World, namespace: dict[str, Any], printed: str) -> None:
    assert len(namespace["statement"].transactions) == 60
    assert namespace["pdf"].startswith(b"%PDF")
    assert len(list(Path.cwd().glob("*.xml"))) >= 8  # ten years in windows of at most 469 days


async def files(world: World, namespace: dict[str, Any], printed: str) -> None:
    assert namespace["receipt"].startswith(b"%PDF")
    assert {upload.filename for upload in world.fake.uploads} >= {"passport.pdf", "receipt.jpg", "selfie.jpg"}


async def card_details(world: World, namespace: dict[str, Any], printed: str) -> None:
    assert namespace["pan"] == "4396910000012345" and namespace["cvv"] == "739"
    assert "4396910000012345" not in printed and "2345" in printed


async def relayed(world: World, namespace: dict[str, Any], printed: str) -> None:
    assert namespace["for_device"].count(".") == 4


async def factors(world: World, namespace: dict[str, Any], printed: str) -> None:
    assert world.fake.counters["scaPinCreate"] == 1
    assert world.fake.counters["sca_approved"] >= 1


async def playground(world: World, namespace: dict[str, Any], printed: str) -> None:
    assert namespace["r"].json() == {"message": "jose-playground-response-hi", "method": "POST"}


async def webhook_receiver(world: World, namespace: dict[str, Any], printed: str) -> None:
    app = namespace["app"]
    delivery = world.fake.webhooks.transfer_state_change(
        world.placeholders["transfer_id"], current_state="outgoing_payment_sent"
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
        first = await world.fake.webhooks.deliver(client, "/wise/webhooks", delivery)
        again = await world.fake.webhooks.deliver(client, "/wise/webhooks", delivery)
        forged = await client.post("/wise/webhooks", content=delivery.body + b" ", headers=delivery.headers)
    assert (first.json(), again.json()) == ({"ok": True}, {"duplicate": True})
    assert forged.status_code == 400
    assert [call[1] for call in namespace["on_transfer_state"].calls] == ["outgoing_payment_sent"]


async def fake_webhooks(world: World, namespace: dict[str, Any], printed: str) -> None:
    assert namespace["response"].json() == {"ok": True}


async def fastapi_lifespan(world: World, namespace: dict[str, Any], printed: str) -> None:
    app = namespace["app"]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client,
    ):
        answer = await client.get("/profiles")
    assert [profile["id"] for profile in answer.json()] == [
        world.fake.personal_profile_id,
        world.fake.business_profile_id,
    ]


async def fleet(world: World, namespace: dict[str, Any], printed: str) -> None:
    app, redis = namespace["app"], namespace["redis"]
    delivery = world.fake.webhooks.transfer_state_change(world.placeholders["transfer_id"])
    try:
        await redis.flushdb()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            stored = await client.get(
                "/oauth/callback", params={"code": world.placeholders["code"], "user_key": "user-7"}
            )
            first = await world.fake.webhooks.deliver(client, "/wise/webhooks", delivery)
            again = await world.fake.webhooks.deliver(client, "/wise/webhooks", delivery)
        assert stored.json() == {"ok": True}
        assert any(b"user-7" in key for key in await redis.keys("*"))  # the pair lives in Redis
        assert first.json() is None and again.json() == {"duplicate": True}
    finally:
        await redis.aclose()


async def pays_once(world: World, namespace: dict[str, Any], printed: str) -> None:
    assert "test_pays_once" in namespace  # it ran (run_block calls test_* functions)


CHECKS: dict[str, Check] = {
    "print(transfer.id, transfer.status)": quickstart,
    "exchange_registration_code": authentication,
    "payment = await err.resume()": sca_resumed,
    "iter_pages()": paging,
    "get_parts(": statements,
    "upload_dispute_file": files,
    "details.reveal_pan()": card_details,
    "card_secrets.relay(": relayed,
    'sca_pins.create(pid, body=json.dumps({"pin"': factors,
    '"X-TW-JOSE-Method": "jws+jwe"': playground,
    "@app.exception_handler(WebhookVerificationError)": webhook_receiver,
    "fake.webhooks.deliver(app_client": fake_webhooks,
    "async def test_pays_once": pays_once,
    "app.state.wise = wise": fastapi_lifespan,
    "RedisTokenStore(redis": fleet,
}


def test_every_check_matches_a_block() -> None:
    for phrase in [*PREPARE, *CHECKS]:
        assert any(phrase in block.source for block in BLOCKS), f"no README block contains {phrase!r}"


async def test_asyncio_scripts_run_in_their_own_loop() -> None:
    block = Block(99, "t", "import asyncio\nasync def main():\n    return 1\nprint(asyncio.run(main()))\n")
    assert await run_block(block, {}) == "1\n"
    asyncio.get_running_loop()  # this test's loop is untouched
