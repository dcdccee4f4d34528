"""``python -m gateway.edges.telegram setup|info|delete <workspace> <bot>``: webhook set-up commands.

    setup <ws> <bot> --url https://public.example/hooks/telegram/<ws>/<bot> [--drop-pending]
    info  <ws> <bot>      getWebhookInfo in plain words, with advice for the last error
    delete <ws> <bot> [--drop-pending]

Exit status: 0 all well, 1 a problem was found (printed), 2 unknown workspace or bot.
"""
from __future__ import annotations

import argparse
import sys

from config.logs import configure_logging
from config.settings import load_settings
from config.workspaces import ConfigError, load_config
from gateway.edges.telegram import admin


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gateway.edges.telegram",
                                     description="Telegram webhook set-up and diagnostics")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("setup", "register the webhook (setWebhook)"),
                       ("info", "show getWebhookInfo in plain words"),
                       ("delete", "remove the webhook (deleteWebhook)")):
        command = commands.add_parser(name, help=text)
        command.add_argument("workspace")
        command.add_argument("bot", help="the bot's name in the workspace file")
        if name == "setup":
            command.add_argument("--url", required=True,
                                 help="public https URL ending in /hooks/telegram/<ws>/<bot>")
        if name in ("setup", "delete"):
            command.add_argument("--drop-pending", action="store_true",
                                 help="drop the updates Telegram holds for the bot")
    return parser


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    configure_logging("telegram")  # the Bot API's URLs hold the token: masked
    try:
        config = load_config(load_settings().config_path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    workspace = config.workspace(args.workspace)
    bot = workspace.channels.bot(args.bot) if workspace else None
    if bot is None:
        print(f"no bot {args.bot!r} in workspace {args.workspace!r}", file=sys.stderr)
        return 2
    if args.command == "setup":
        report = admin.setup(args.workspace, bot, args.url, args.drop_pending)
    elif args.command == "info":
        report = admin.info(args.workspace, bot)
    else:
        report = admin.delete(bot, args.drop_pending)
    print("\n".join(report.lines))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
