"""Generate ``generated/wise_api`` from the normalized spec: the low-level client plus our typed facade.

Pipeline (``make generate``): normalize the bundle, parse it with openapi-python-client's own parser,
render its templates (with our overrides in ``codegen/templates``), then render from the same parsed
endpoints the operation table and the typed facade, write the surface listing, and byte-compile.
Any generator warning fails the build: an operation or model silently dropped is a bug.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from openapi_python_client import Project
from openapi_python_client.config import Config, ConfigFile, MetaType
from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.errors import GeneratorError

from codegen import docs, facade, fake_answers, paging, request_dicts, surface, webhook_events, wire_types
from codegen.normalize import load_spec, normalize
from codegen.spec_source import mismatch

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"


class GenerationError(RuntimeError):
    """The generator warned or failed: the output would be missing operations or models."""


RUNTIME = Path(__file__).resolve().parent / "runtime"


def parse(spec: dict[str, object], config: Config) -> GeneratorData:
    """Parse with openapi-python-client, then apply our type rules (codegen/wire_types.py)."""
    data = GeneratorData.from_dict(spec, config=config)
    if isinstance(data, GeneratorError):
        raise GenerationError(f"{data.header}: {data.detail}")
    wire_types.apply(data, spec)
    return data


def load_config(config_file: Path, spec_path: Path, output: Path) -> Config:
    return Config.from_sources(
        ConfigFile.load_from_path(config_file),
        MetaType.NONE,
        spec_path,
        "utf-8",
        True,
        output,
    )


def describe(errors: list[GeneratorError]) -> str:
    lines = []
    for error in errors:
        lines.append(f"- {error.header}: {error.detail}")
    return "\n".join(lines)


def generate(spec_path: Path, out_dir: Path, *, config_file: Path, normalized_path: Path | None) -> Path:
    """Generate the ``wise_api`` package into ``out_dir/wise_api``; return the package path."""
    started = time.monotonic()
    spec = load_spec(spec_path)
    normalized: dict[str, list[str]] = {}
    for name, count in normalize(spec, normalized):
        print(f"normalize: {name}: {count}")
    if normalized_path is not None:
        normalized_path.write_text(json.dumps(spec, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    package = out_dir / "wise_api"
    with tempfile.TemporaryDirectory(dir=out_dir.parent if out_dir.parent.exists() else None) as tmp:
        staging = Path(tmp) / "wise_api"
        config = load_config(config_file, normalized_path or spec_path, staging)
        data = parse(spec, config)
        errors = [
            *data.errors,
            *(e for c in data.endpoint_collections_by_tag.values() for e in c.parse_errors),
        ]
        hooks, config.post_hooks = config.post_hooks, []
        project = Project(openapi=data, config=config, custom_template_path=TEMPLATES)
        models = {model.class_info.name: model for model in data.models}
        project.env.globals["union_dispatch"] = lambda union: wire_types.union_dispatch(union, models)
        project.env.globals["mapping_body"] = wire_types.mapping_body
        project.env.globals["webhook_bases"] = webhook_events.bases(spec, data)
        errors += list(project.build())
        operations = facade.collect_operations(data, spec, config.field_prefix)
        dict_models = request_dicts.write(data, staging)
        signatures = facade.write(project, operations, staging, dict_models)
        unknown_paging = paging.write(operations, data, spec, signatures, staging)
        events = webhook_events.write(spec, data, staging)
        fake_answers.write(spec, staging)
        (staging / "py.typed").write_text("", encoding="utf-8")  # PEP 561: users' mypy reads our types
        shutil.copyfile(RUNTIME / "wire.py", staging / "wire.py")  # what the generated code calls
        surface.write(surface.build(data, operations, events, normalized), staging / "surface.lock")
        config.post_hooks = hooks  # one formatter pass over generator output and facade alike
        project._run_post_hooks()
        errors += project.errors
        if errors:
            failed = out_dir / "wise_api.failed"  # kept for inspection; never imported
            shutil.rmtree(failed, ignore_errors=True)
            out_dir.mkdir(parents=True, exist_ok=True)
            shutil.copytree(staging, failed)
            raise GenerationError(
                f"openapi-python-client reported {len(errors)} problem(s):\n{describe(errors)}"
            )
        shutil.rmtree(out_dir / "wise_api.failed", ignore_errors=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        if package.exists():
            shutil.rmtree(package)
        shutil.move(str(staging), str(package))
    # the API reference holds the spec's prose: a build output beside the package, never committed
    (out_dir / "api.md").write_text(docs.api_reference(operations, signatures), encoding="utf-8")
    # byte-compile in place (PYTHONDONTWRITEBYTECODE may be set): cold imports then read .pyc, as installed
    compileall.compile_dir(str(package), quiet=1, workers=1)
    elapsed = time.monotonic() - started
    print(
        f"generate: {len(operations)} operations, {len(data.models)} models + {len(data.enums)} enums,"
        f" {len(events)} webhook event versions"
    )
    for name in unknown_paging:
        print(f"generate: paging shape not in codegen/paging.py, no iterator: {name}")
    print(f"generate: {elapsed:.1f}s → {package}")
    return package


def main(argv: list[str] | None = None) -> int:
    # the formatter hooks run `ruff` from this interpreter's environment, with or without `make`
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", type=Path, default=ROOT / "openapi" / "index.yaml")
    parser.add_argument("--out", type=Path, default=ROOT / "generated")
    parser.add_argument("--config", type=Path, default=ROOT / "generator-config.yml")
    parser.add_argument("--normalized", type=Path, default=ROOT / "openapi" / "index.normalized.json")
    parser.add_argument(
        "--adopt",
        action="store_true",
        help="build from a spec openapi/spec.lock does not name (make regenerate)",
    )
    args = parser.parse_args(argv)
    if not args.spec.is_file():
        print(f"generate: no spec at {args.spec}: run `make spec`", file=sys.stderr)
        return 1
    shown = os.path.relpath(args.spec, Path.cwd()) if args.spec.is_absolute() else str(args.spec)
    refused = None if args.adopt else mismatch(args.spec.read_bytes(), f"generate: {shown}")
    if refused:  # never build the client from another spec than the locks describe
        print(refused, file=sys.stderr)
        return 1
    try:
        generate(args.spec, args.out, config_file=args.config, normalized_path=args.normalized)
    except GenerationError as exc:
        print(f"generate: FAILED\n{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
