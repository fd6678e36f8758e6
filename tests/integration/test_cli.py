"""The command line: cdpd user add, version, help, bad options, start-up failures."""
import os
import socket
import subprocess

import pytest

from conftest import CDPD_BIN, SLOW, Server


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("CDPD_")}


def run(*args, env=None):
    r = subprocess.run([CDPD_BIN, *args], capture_output=True, text=True, timeout=60 * SLOW,
                       env=env if env is not None else clean_env())
    Server._check_sanitizer_text(r.stderr, "cdpd " + " ".join(args[:2]))
    return r


def test_version():
    r = run("version")
    assert r.returncode == 0, r
    assert r.stdout.startswith("cdpd "), r.stdout


def test_help_lists_options():
    r = run("help")
    assert r.returncode == 0, r
    for opt in ("--max-body", "--max-events", "--trusted-proxies", "--system-events", "--sync",
                "CDPD_MAX_BODY"):
        assert opt in r.stdout, opt


def test_unknown_command_fails():
    r = run("frobnicate")
    assert r.returncode != 0
    assert "unknown command" in r.stderr


def test_unknown_option_fails(tmp_path):
    r = run("serve", "--data", str(tmp_path / "d"), "--no-such-option", "1")
    assert r.returncode != 0
    assert "no-such-option" in r.stderr


@pytest.mark.parametrize("opt,val", [("--sync", "sometimes"), ("--max-body", "-5"),
                                     ("--system-events", "maybe"), ("--max-events", "many")])
def test_bad_option_values_fail(tmp_path, opt, val):
    r = run("serve", "--data", str(tmp_path / "d"), "--listen", "127.0.0.1:0",
            "--admin-listen", "127.0.0.1:0", opt, val)
    assert r.returncode != 0, r
    assert r.stderr.strip(), r


def test_user_add(tmp_path):
    d = str(tmp_path / "d")
    r = run("user", "add", "--data", d, "--email", "a@example.com", "--password", "long-enough-1",
            "--role", "admin")
    assert r.returncode == 0, r
    dup = run("user", "add", "--data", d, "--email", "A@example.com", "--password",
              "long-enough-2", "--role", "marketer")
    assert dup.returncode != 0, dup
    assert "exists" in dup.stderr


@pytest.mark.parametrize("args", [
    ["--email", "not-an-email", "--password", "long-enough-1", "--role", "admin"],
    ["--email", "b@example.com", "--password", "short", "--role", "admin"],
    ["--email", "b@example.com", "--password", "long-enough-1", "--role", "superuser"],
    ["--email", "b@example.com", "--password", "long-enough-1"],
])
def test_user_add_refuses_bad_input(tmp_path, args):
    r = run("user", "add", "--data", str(tmp_path / "d"), *args)
    assert r.returncode != 0, r
    assert r.stderr.strip()


def test_serve_fails_when_port_taken(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        r = run("serve", "--data", str(tmp_path / "d"), "--listen", "127.0.0.1:%d" % port,
                "--admin-listen", "127.0.0.1:0")
        assert r.returncode != 0, r
        assert "listen" in r.stderr, r.stderr
    finally:
        s.close()


def test_data_dir_from_environment(tmp_path):
    """CDPD_DATA chooses the data directory when --data is not given."""
    d = tmp_path / "env-data-dir"
    env = clean_env()
    env["CDPD_DATA"] = str(d)
    r = run("user", "add", "--email", "e@example.com", "--password", "long-enough-1", "--role",
            "admin", env=env)
    assert r.returncode == 0, r
    assert (d / "cdpd.db").exists()
