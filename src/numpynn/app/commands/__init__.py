"""The numpynn command's subcommands: each module holds a subcommand's options (add_parser) and its run(args)."""
