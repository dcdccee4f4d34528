"""The workspace schema with ``outbound`` (as the lead will hang ``config.outbound.Outbound``
under ``WorkspaceConfig``), and the test workspaces with acknowledgements and a webhook on.

The local receivers of these tests listen on 127.0.0.1, which the guarded client refuses by
default: the demo workspace lists it in ``fetch_allow_hosts``, as an operator would."""
from __future__ import annotations

import copy

from config.outbound import Outbound
from config.workspaces import Config, WorkspaceConfig
from tests.conftest import TEST_CONFIG


class OutboundWorkspace(WorkspaceConfig):
    outbound: Outbound = Outbound()


class OutboundConfig(Config):
    workspaces: tuple[OutboundWorkspace, ...]


LOCAL_FETCH_HOSTS = ["127.0.0.1", "localhost"]


def outbound_config(**demo_outbound) -> OutboundConfig:
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["outbound"] = demo_outbound
    data["workspaces"][0]["fetch_allow_hosts"] = LOCAL_FETCH_HOSTS
    return OutboundConfig.model_validate(data)
