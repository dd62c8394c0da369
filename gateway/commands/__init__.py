"""Subcommands of the `sms-gateway` command line, one module each.

Each module defines `register(subparsers)`, which adds its parser and sets `func`
(a callable taking the parsed arguments and returning the exit status).
"""
