"""`make bench`: every benchmark of docs/PERFORMANCE.md, with its baseline from the same run.

Uses the machine's PostgreSQL (database quorum_bench, made anew) and its own localstripe; writes
bench/results/bench.json and prints a table.

    .venv/bin/python bench/run.py [--sizes 1000,10000,100000]
"""

import argparse
import json
import os
import secrets
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRIPE_PORT = 8767
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "config.settings.test",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/quorum_bench",
    "STRIPE_API_BASE": f"http://127.0.0.1:{STRIPE_PORT}",
    "STRIPE_LOCALSTRIPE": "true",
    "SECRET_KEY": secrets.token_urlsafe(60),
}
PYTHON = str(ROOT / ".venv" / "bin" / "python")
CALIBRATION_LOOP = 10_000_000  # additions, in pure Python


def step(*argv):
    done = subprocess.run([PYTHON, *argv], cwd=ROOT, env=ENV, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    output = done.stdout.strip()
    return json.loads(output.splitlines()[-1]) if output else None


def machine():
    """What the figures were measured on: figures of two machines compare only with this."""
    started = time.process_time()
    total = 0
    for number in range(CALIBRATION_LOOP):
        total += number
    return {
        "cores": os.cpu_count(),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
        # One core's speed for plain Python, the language of most of every request's work.
        "calibration_loop_cpu_seconds": round(time.process_time() - started, 3),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    sizes = [int(size) for size in parser.parse_args().sizes.split(",")]
    started = time.monotonic()
    for command in (["dropdb", "--if-exists", "quorum_bench"], ["createdb", "quorum_bench"]):
        subprocess.run([*command, "-h", "127.0.0.1", "-U", "postgres"], check=True)
    stripe = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "localstripe"), "--port", str(STRIPE_PORT), "--from-scratch"],
        cwd="/tmp",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    result = {"machine": machine()}

    def record(name, value):
        # Written after every step, so a step that fails leaves the figures of those before it.
        result[name] = value
        (out / "bench.json").write_text(json.dumps(result, indent=2))
        return value

    try:
        time.sleep(2)
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=ENV, check=True)
        subprocess.run(
            [PYTHON, "manage.py", "sync_stripe_plans"],
            cwd=ROOT,
            env=ENV,
            check=True,
            capture_output=True,
        )
        upgrades = record("upgrade", [step("bench/upgrade.py", str(size)) for size in sizes])
        domain = upgrades[-1]["domain"]
        # The purchases wrote the licences after the seed's ANALYZE: a live database's autovacuum
        # would have analysed them before anyone opened a page (the bench's own PostgreSQL may
        # run without autovacuum, as this machine's does), else the planner sorts every licence.
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", "ANALYZE", "quorum_bench"],
            check=True,
        )
        record("admin_pages", step("bench/pages.py", domain))
        record("throughput", step("bench/throughput.py", domain))
        record("render_profile", step("bench/render_profile.py", domain))
        # py-spy: needs root (or ptrace rights). A page served again, and built every time.
        record("flame", step("bench/flame.py", domain, "baseline", "pages built every time"))
        record("dns", step("bench/dns_checks.py"))
        record("announcement", step("bench/announce.py", str(sizes[-1])))
        record("provisioning", step("bench/provisioning.py", "10000", str(sizes[-1])))
        record("merge", [step("bench/merge.py", str(size)) for size in sizes])
        record("domain_sweep", step("bench/domain_sweep.py", str(sizes[-1])))
    finally:
        stripe.terminate()
        stripe.wait(timeout=20)
    result["machine"]["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    record("bench_seconds", round(time.monotonic() - started, 1))
    print_table(result)


def print_table(result):
    box = result["machine"]
    print(
        f"Machine: {box['cores']} cores, load average {box['load_average_at_start']} at the start,"
        f" {box['load_average_at_end']} at the end; {CALIBRATION_LOOP:,} additions in pure"
        f" Python took {box['calibration_loop_cpu_seconds']} s of CPU"
    )
    print("\n1. Upgrade (the whole purchase service) vs hand-written SQL, same run")
    print("| members | service s | SQL s | ratio | queries | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for row in result["upgrade"]:
        print(
            f"| {row['members']:,} | {row['service_seconds']} | {row['sql_baseline_seconds']}"
            f" | {row['ratio_to_sql']} | {row['queries']} | {row['peak_rss_mb']} |"
        )
    pages = result["admin_pages"]
    print(f"\n2. Admin pages at {pages['members']:,} members, 200 requests each")
    print("| page | queries | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    for name, row in pages["pages"].items():
        print(f"| {name} | {row['queries']} | {row['p50_ms']} | {row['p95_ms']} |")
    run = result["throughput"]
    print(
        f"\n3. Throughput, gunicorn ({run['gunicorn_workers']} workers) and wrk"
        f" ({run['wrk_connections']} connections, {run['seconds_each']} s each), {run['cores']}"
        f" cores; load average {run['load_average_before']} before, {run['load_average_after']}"
        " after"
    )
    print(
        "| lever | page | req/s | % of the bare view | errors | p99 | CPU ms per request"
        " (gunicorn + PostgreSQL) | % of the bare view by CPU |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for lever, measured in run["levers"].items():
        for key in ("bare_view_before", *measured["pages"], "bare_view_after"):
            row = measured.get(key) or measured["pages"][key]
            share = row.get("percent_of_bare_view", measured.get("refused", ""))
            cpu = row["cpu_ms_per_request"]
            print(
                f"| {lever} | {key} | {row['requests_per_second']} | {share}"
                f" | {row['errors']} | {row['p99']} | {cpu['gunicorn']} + {cpu['postgresql']}"
                f" | {row.get('cpu_bound_percent_of_bare_view', '')} |"
            )
    print("\n3a. One render of each page (test client, cProfile)")
    print("| page | ms per request | ms in render() | queries | url reversals | translations |")
    print("|---|---|---|---|---|---|")
    for name, row in result["render_profile"].items():
        print(
            f"| {name} | {row['ms_per_request']} | {row['ms_rendering']} | {row['queries']}"
            f" | {row['url reversals']} | {row['translation calls']} |"
        )
    print("\n3b. py-spy under wrk: the widest frames of each page (bench/results/flame/)")
    for lever, flamed in result["flame"].items():
        for name, graph in flamed.items():
            widest = "; ".join(f"{row['frame']} {row['percent']} %" for row in graph["widest"][:6])
            print(f"- {lever}, {name} ({graph['samples']} samples): {widest}")
    print("\n4. DNS:", json.dumps(result["dns"]))
    mail = result["announcement"]
    print(
        f"\n5. Announcement to {mail['members']:,} members: {mail['messages_per_second']} msg/s"
        f" ({mail['seconds']} s), {mail['mails_received']:,} mails to"
        f" {mail['distinct_recipients']:,} people, {mail['mailed_twice']} mailed twice; worker"
        f" peak RSS {mail['peak_rss_mb_largest_worker_process']} MB per process,"
        f" {mail['peak_rss_mb_worker_total']} MB in all"
    )
    scim = result["provisioning"]
    print(
        f"\n6. SCIM: {scim['people_provisioned']:,} people provisioned one POST each over"
        f" {scim['connections']} connections: {scim['people_per_second']} people/s"
        f" ({scim['provisioning_seconds']} s); CPU ms a person {scim['cpu_ms_per_person']}, which"
        f" bounds 2 idle cores at {scim['people_per_second_bound_by_2_cores']} people/s; filtered"
        f" lists at {scim['members_listed']:,}"
        " provisioned members, 200 requests each"
    )
    print("| filter | queries | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    for name, row in scim["filtered_lists"].items():
        print(f"| {name} | {row['queries']} | {row['p50_ms']} | {row['p95_ms']} |")
    print("\n7. Merging an unmanaged tenant into a managed one vs hand-written SQL, same run")
    print("| members | service s | SQL s | ratio | queries | licensed | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for row in result["merge"]:
        print(
            f"| {row['members']:,} | {row['service_seconds']} | {row['sql_baseline_seconds']}"
            f" | {row['ratio_to_sql']} | {row['queries']} | {row['licensed']:,}"
            f" | {row['peak_rss_mb']} |"
        )
    sweep = result["domain_sweep"]
    print(
        f"\n8. Daily re-verification of {sweep['domains']:,} domains:"
        f" {sweep['checks_per_minute']} checks a minute over {sweep['minutes_with_checks']}"
        f" minutes, at most {sweep['busiest_second']} in one second; a beat run"
        f" {sweep['beat_run']}; one check {sweep['one_check_ms']} ms"
    )
    print(f"\nbench time: {result['bench_seconds']} s")


if __name__ == "__main__":
    main()
