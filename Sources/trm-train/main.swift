import CLISupport

let usage = """
    trm-train: train Tiny Recursive Models (and their Mamba-2 hybrids) and write checkpoints.

    USAGE: trm-train <command> [options]

    COMMANDS:
      init    write a freshly initialised checkpoint for a preset and task

    Run 'trm-train <command> --help' for a command's options.
    """

runSubcommands("trm-train", usage: usage, ["init": InitCommand.run])
