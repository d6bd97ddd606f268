"""The `sensr` command, Sensr's front door (click: declarative commands, help for free)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click

from sensr.settings import load_settings, settings_table


def _port(address: str, default: int) -> int:
    """The port of `host:port` or of a URL, else `default`."""
    parsed = urlsplit(address if "://" in address else f"//{address}")
    return parsed.port or default


@click.group()
def main() -> None:
    """Sensr: a self-hosted upload service for camera images."""


@main.group()
def infra() -> None:
    """Install, start and stop Kafka, SeaweedFS and PostgreSQL natively."""


@infra.command("install")
@click.option("--test-clients", is_flag=True, help="Also install the clients the tests drive (curl, wget, ffmpeg, lftp, chromium).")
def infra_install(test_clients: bool) -> None:
    """Install what is missing (Debian packages, Kafka jars, SeaweedFS); skips what is there."""
    from infra.install import install
    install(with_test_clients=test_clients)


@infra.command("up")
@click.option("--postgres", "with_postgres", is_flag=True, help="Also start PostgreSQL (the default index is SQLite).")
def infra_up(with_postgres: bool) -> None:
    """Start Kafka, SeaweedFS (and PostgreSQL) in the background, on the configured ports."""
    from infra import stack
    from infra.install import install
    from sensr.broker import ensure_topics
    settings = load_settings()
    install()
    ports = stack.StackPorts(kafka=_port(settings.kafka.kafka_bootstrap, 9092),
                             s3=_port(settings.s3.s3_endpoint, 8333),
                             postgres=_port(settings.database.database_url, 5432))
    state = stack.up(Path(settings.core.data_dir), ports, settings.s3.s3_access_key, settings.s3.s3_secret_key,
                     with_postgres=with_postgres)
    ensure_topics(settings.core, settings.kafka)
    for name, entry in state["services"].items():
        address = entry.get("bootstrap") or entry.get("endpoint") or entry.get("url")
        click.echo(f"{name}: {address} (log: {entry['log']})")


@infra.command("down")
def infra_down() -> None:
    """Stop what `sensr infra up` started."""
    from infra import stack
    stopped = stack.down(Path(load_settings().core.data_dir))
    click.echo(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@infra.command("status")
def infra_status() -> None:
    """Show whether each infrastructure service runs and answers."""
    from infra import stack
    report = stack.status(Path(load_settings().core.data_dir))
    if not report:
        click.echo("nothing started yet (sensr infra up)")
    for name, entry in report.items():
        state = "running" if entry["running"] else "not running"
        answers = ", answering" if entry["answers"] else ""
        click.echo(f"{name}: {state}{answers} at {entry['address']}")


@main.command("run")
@click.option("--demo", "with_demo", is_flag=True,
              help="Once everything runs, create a demo user and camera and print upload commands.")
@click.option("--email", default=None, help="The demo user's e-mail address (with --demo).")
@click.option("--password", default=None, help="The demo user's password (with --demo; default: a random one, "
                                                "kept in the data folder).")
def run_stack(with_demo: bool, email: str | None, password: str | None) -> None:
    """Run the whole stack natively (installs what is missing); Ctrl-C stops it."""
    from launcher.demo import DEMO_EMAIL, DemoLogin
    from launcher.run import run
    run(load_settings(), demo_login=DemoLogin(email or DEMO_EMAIL, password) if with_demo else None)


@main.command("demo")
@click.option("--email", default=None, help="The demo user's e-mail address.")
@click.option("--password", default=None, help="The demo user's password (default: a random one, kept in the data "
                                                "folder so the next `sensr demo` finds the user again).")
def demo_command(email: str | None, password: str | None) -> None:
    """Create a first user and camera on the running Sensr and print upload commands for it."""
    from launcher.demo import DEMO_EMAIL, DemoError, DemoLogin, demo
    try:
        click.echo(demo(load_settings(), DemoLogin(email or DEMO_EMAIL, password)))
    except DemoError as error:
        raise click.ClickException(str(error)) from None


@main.command("settings")
def show_settings() -> None:
    """Print every SENSR_ setting with its default, as a Markdown table."""
    click.echo(settings_table())


if __name__ == "__main__":
    main()
