import CLISupport

let usage = """
    trm-train: train Tiny Recursive Models (and their Mamba-2 hybrids) and write checkpoints.

    USAGE: trm-train <command> [options]

    COMMANDS:
      init    write a freshly initialised checkpoint for a preset and task

    Run 'trm-train <command> --help' for a command's options.
    """

runCommand("trm-train") {
    var argv = Array(CommandLine.arguments.dropFirst())
    guard let command = argv.first else {
        print(usage)
        throw UsageError("no command given")
    }
    argv.removeFirst()
    switch command {
    case "init": try InitCommand.run(argv)
    case "--help", "-h", "help": print(usage)
    default: throw UsageError("unknown command '\(command)'")
    }
}
