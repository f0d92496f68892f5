#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Prints `message` to standard error with control characters escaped (all but newline and tab):
/// error messages quote names and values from files, so this one place keeps every one of them from
/// driving the terminal.
public func printError(_ message: String) {
    fputs(terminalEscaped(message, keeping: ["\n", "\t"]) + "\n", stderr)
}

/// Runs a command's body, turning errors into a message on stderr and a non-zero exit (2 for usage
/// errors, 1 otherwise), never a crash.
public func runCommand(_ tool: String, _ body: () throws -> Void) -> Never {
    do {
        try body()
        exit(0)
    } catch let e as UsageError {
        printError("\(tool): \(e.message)\nRun '\(tool) --help' for usage.")
        exit(2)
    } catch {
        printError("\(tool): error: \(error)")
        exit(1)
    }
}

/// Runs `tool <command> [options]`: dispatches to `commands[command]` with the remaining arguments;
/// no command, `help`, `-h` or `--help` print `usage`.
public func runSubcommands(_ tool: String, usage: String, _ commands: [String: ([String]) throws -> Void]) -> Never {
    runCommand(tool) {
        var argv = Array(CommandLine.arguments.dropFirst())
        guard let command = argv.first else {
            print(usage)
            throw UsageError("no command given")
        }
        argv.removeFirst()
        if ["--help", "-h", "help"].contains(command) {
            print(usage)
            return
        }
        if command == "--version" {
            print(Arguments.versionLine)
            return
        }
        guard let run = commands[command] else { throw UsageError("unknown command '\(command)'") }
        try run(argv)
    }
}
