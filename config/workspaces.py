"""The workspace configuration file (YAML) and its schema.

A workspace is one business: its mail addresses and domains, API keys (given as references to
environment variables, kept only as SHA-256 hashes in memory), sender address, threading and
reopen policy. ``load_config`` fails with a message naming the key and the problem.
"""
from __future__ import annotations

import hashlib
import os
import re
from typing import Literal

import yaml
from config.channels import Channels
from config.fetch import AllowHosts
from config.outbound import Outbound
from config.routing import Routing
from pydantic import Field, ValidationError, field_validator
from routing.schema import Strict

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class ConfigError(ValueError):
    """The workspace file is missing, unreadable or invalid; the message says where and why."""


class ApiKeyRef(Strict):
    env: str = Field(description="name of the environment variable holding the key")


class Threading(Strict):
    subject_prefix: str = Field("", pattern=r"^[A-Za-z0-9-]{0,20}$")
    heuristics: bool = False


class Reopen(Strict):
    policy: Literal["reopen", "follow_up", "reopen_within"] = "reopen"
    days: int = Field(7, ge=0, description="for reopen_within: reopen if closed less than N days")


class WorkspaceConfig(Strict):
    slug: str
    name: str = ""
    domains: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    sender: str = ""
    api_keys: tuple[ApiKeyRef, ...] = ()
    threading: Threading = Threading()
    reopen: Reopen = Reopen()
    channels: Channels = Channels()
    outbound: Outbound = Outbound()
    routing: Routing = Routing()
    fetch_allow_hosts: AllowHosts = Field((), description="hosts server-side fetches may reach "
                                          "even at private addresses (config/fetch.py)")

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be lowercase letters, digits and '-' (at most 63)")
        return value

    @field_validator("domains", "addresses")
    @classmethod
    def _lower(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower() for v in values)

    def owns(self, address: str) -> bool:
        """True when mail to ``address`` (plus-addressing allowed) belongs to this workspace."""
        local, _, domain = address.lower().rpartition("@")
        base = local.split("+", 1)[0] + "@" + domain
        return domain in self.domains or base in self.addresses or address.lower() in self.addresses

    def key_hashes(self, environ=None) -> list[str]:
        env = os.environ if environ is None else environ
        return [hash_key(env[ref.env]) for ref in self.api_keys if env.get(ref.env)]


class Config(Strict):
    workspaces: tuple[WorkspaceConfig, ...]

    @field_validator("workspaces")
    @classmethod
    def _unique(cls, values):
        slugs = [w.slug for w in values]
        dupes = sorted({s for s in slugs if slugs.count(s) > 1})
        if dupes:
            raise ValueError(f"duplicate workspace slug(s): {', '.join(dupes)}")
        return values

    def workspace(self, slug: str) -> WorkspaceConfig | None:
        return next((w for w in self.workspaces if w.slug == slug), None)

    def workspace_for_address(self, address: str) -> WorkspaceConfig | None:
        return next((w for w in self.workspaces if w.owns(address)), None)

    def own_domains(self) -> tuple[str, ...]:
        domains = {d for w in self.workspaces for d in w.domains}
        domains |= {a.rpartition("@")[2] for w in self.workspaces for a in w.addresses}
        return tuple(sorted(domains))

    def api_key_index(self, environ=None) -> dict[str, str]:
        """Map SHA-256 key hash -> workspace slug."""
        return {h: w.slug for w in self.workspaces for h in w.key_hashes(environ)}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def load_config(path: str) -> Config:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read workspace file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(data, path)


def parse_config(data, path: str = "<config>") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: " + "; ".join(_describe(e) for e in exc.errors())) from None


def _describe(error: dict) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "(top level)"
    return f"{where}: {error['msg']}"
