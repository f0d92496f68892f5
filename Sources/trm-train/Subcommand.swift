import CLISupport

/// What the trm-train commands share in their options, usage text and parsing.
enum Subcommand {
    static let helpOption = Arguments.Option("help", short: "h", help: "show this help")

    /// `head` (usage line and description), then the option list.
    static func usage(_ head: String, options: [Arguments.Option]) -> String {
        head + "\n\nOPTIONS:\n" + Arguments.helpText(options)
    }

    /// The arguments of a command that takes no positional ones; nil when --help was printed.
    static func parse(_ argv: [String], options: [Arguments.Option], usage: String) throws -> Arguments? {
        guard let args = try Arguments.parse(argv, options: options, usage: usage) else { return nil }
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        return args
    }
}
