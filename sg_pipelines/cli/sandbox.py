"""`sg-pipelines sandbox`: the Campus sandbox, serving and reporting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sg_pipelines.cli.options import (
    DEFAULT_SEED,
    DEFAULT_STUDENTS,
    CommandGroup,
    CsvSample,
    DemoHome,
    Seed,
    SeedIfGiven,
    Students,
    StudentsIfGiven,
    bind_or_exit,
    demo_home,
)
from sg_pipelines.settings import SANDBOX_DEFAULT_PORT

sandbox_app = CommandGroup(help="The Campus sandbox: a OneRoster 1.2 provider for demos and tests.")


@sandbox_app.command("report")
def sandbox_report(
    client_id: Annotated[str, typer.Option(help="The data export's client id.")],
    client_secret: Annotated[
        str, typer.Option(envvar="SG_REPORT_CLIENT_SECRET", help="Its secret (or the variable).")
    ],
    api_url: Annotated[str, typer.Option(help="Where the reporting API is served.")] = (
        "http://127.0.0.1:8780"
    ),
    fiscal_year: Annotated[int | None, typer.Option(help="Fiscal year of the calendar.")] = None,
    reporting_period: Annotated[str | None, typer.Option(help="K, N or G.")] = None,
    building_irn: Annotated[str | None, typer.Option(help="Only this building.")] = None,
    students: StudentsIfGiven = None,
    seed: SeedIfGiven = None,
    csv_sample: CsvSample = False,
    home: DemoHome = None,
) -> None:
    """Pull every record set as Campus would and show what its report would contain.

    Campus's own drops (students not linked, records outside an enrollment, ...) are judged
    against the sandbox district of the same size and seed as the demo's, as the demo recorded
    in its home; `--students`, `--seed` or `--csv-sample` name another district.
    """
    import httpx

    from sg_pipelines.demo import DemoDistrict, demo_district_as_left, recorded_district
    from sg_pipelines.sandbox.report_client import (
        CampusParameters,
        CampusReportClient,
        CampusRoster,
        ReportClientError,
    )

    # the district as the demo left it, which is what its warehouse was synced from
    home = demo_home(home)
    recorded = recorded_district(home)
    if students is None and seed is None and not csv_sample and recorded is not None:
        district_of_demo, source = recorded, f"recorded in {home}"
    else:
        district_of_demo = DemoDistrict(
            students=students or DEFAULT_STUDENTS,
            seed=DEFAULT_SEED if seed is None else seed,
            csv_sample=csv_sample,
        )
        if students is not None or seed is not None or csv_sample:
            source = "as given"
        else:
            source = f"no demo recorded in {home}, so the default"
    district, description = demo_district_as_left(district_of_demo)
    if not district_of_demo.csv_sample:
        description += f", {district_of_demo.students} students"
    typer.echo(f"Judging Campus's drops against the {description} ({source})")
    parameters = CampusParameters(
        fiscal_year=fiscal_year, reporting_period=reporting_period, building_irn=building_irn
    )
    try:
        with CampusReportClient(api_url, client_id, client_secret) as client:
            report = client.report(CampusRoster.from_district(district), parameters)
    except ReportClientError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    except httpx.HTTPError as error:
        typer.echo(
            f"error: cannot reach the reporting API at {api_url} ({type(error).__name__})",
            err=True,
        )
        raise typer.Exit(code=1) from None

    summary = report.summary()
    reasons = summary.pop("reasons")
    typer.echo(f"{'record set':<12}{'served':>8}{'pages':>7}{'kept':>7}{'dropped':>9}")
    for endpoint, counts in summary.items():
        typer.echo(
            f"{endpoint:<12}{counts['served']:>8}{counts['pages']:>7}{counts['kept']:>7}"
            f"{counts['dropped']:>9}"
        )
    for reason, count in sorted(reasons.items()):
        typer.echo(f"  dropped by Campus: {count} {reason}")
    if report.not_permitted:
        refused = ", ".join(f"{name} ({why})" for name, why in report.not_permitted.items())
        typer.echo(f"not permitted for this account, so left out: {refused}")
    if not report.pulls:
        raise typer.Exit(code=1)


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on (0 picks a free one).")
    ] = SANDBOX_DEFAULT_PORT,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    students: Students = 2000,
    seed: Seed = 7,
    csv: Annotated[Path | None, typer.Option(help="Serve this OneRoster CSV bundle.")] = None,
    csv_sample: CsvSample = False,
) -> None:
    """Serve a district as a OneRoster 1.2 provider until interrupted."""
    from sg_pipelines.demo import PUBLIC_SAMPLE, build_district
    from sg_pipelines.sandbox.csv_bundle import load_bundle
    from sg_pipelines.sandbox.runner import serve_on_socket

    if csv is not None:
        district = load_bundle(csv)
        description = f"CSV bundle {csv}"
    else:
        district, description = build_district(students, seed, csv_sample)
        if csv_sample:
            description += f" from {PUBLIC_SAMPLE}"
    sock = bind_or_exit(host, port, "--port")
    port = sock.getsockname()[1]
    typer.echo(f"Serving {description} on http://{host}:{port}/ims/oneroster/rostering/v1p2")
    serve_on_socket(sock, district)
