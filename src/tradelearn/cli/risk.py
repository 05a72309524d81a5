"""``tradelearn risk ...``: the pre-trade gate's limits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradelearn.cli.common import emit_json, out_console, run_guarded
from tradelearn.cli.risk_forecast import register
from tradelearn.risk.limits import GateLimits

app = typer.Typer(help="Risk: pre-trade limits.", no_args_is_help=True)
gate_app = typer.Typer(help="The pre-trade gate.", no_args_is_help=True)
app.add_typer(gate_app, name="gate")
register(app)


@gate_app.command("check")
def check(
    config: Annotated[Path, typer.Option("--config", "-c", help="Limits file (TOML or JSON).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Validate a limits file: unknown, missing or non-positive values fail with the key named."""

    def body() -> None:
        limits = GateLimits.load(config)
        if json_out:
            emit_json({"valid": True, "config": str(config), "limits": limits.to_dict()})
        else:
            out_console.print(f"{config}: valid")
            for key, value in limits.to_dict().items():
                out_console.print(f"  {key} = {value}")

    run_guarded(body)
