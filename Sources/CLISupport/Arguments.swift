import Foundation
import TRMCore

/// A small command-line parser for the thin trm executables (no package dependencies): `--name value`,
/// `--name=value` and `--flag`, plus positional arguments. Unknown options are errors.
public struct Arguments {
    /// A declared option.
    public struct Option {
        public var name: String
        public var valueName: String?
        public var help: String
        /// A one-letter alias (`-o`).
        public var short: Character?

        /// An option taking a value (`--name VALUE`); `valueName == nil` declares a flag.
        public init(_ name: String, _ valueName: String? = nil, short: Character? = nil, help: String) {
            self.name = name
            self.valueName = valueName
            self.help = help
            self.short = short
        }
    }

    public private(set) var values: [String: String] = [:]
    public private(set) var flags: Set<String> = []
    public private(set) var positional: [String] = []

    /// Parses `args` against `options`. Throws a `UsageError` with a clear message.
    public init(_ args: [String], options: [Option]) throws {
        let byName = Dictionary(options.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var i = 0
        while i < args.count {
            var arg = args[i]
            i += 1
            if arg.count == 2, arg.first == "-", let o = options.first(where: { $0.short == arg.last }) {
                arg = "--" + o.name
            }
            guard arg.hasPrefix("--"), arg.count > 2 else {
                positional.append(arg)
                continue
            }
            var name = String(arg.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let option = byName[name] else { throw UsageError("unknown option --\(name)") }
            if option.valueName == nil {
                guard inline == nil else { throw UsageError("--\(name) takes no value") }
                flags.insert(name)
            } else if let v = inline {
                values[name] = v
            } else {
                guard i < args.count else { throw UsageError("--\(name) needs a value (\(option.valueName!))") }
                values[name] = args[i]
                i += 1
            }
        }
    }

    /// Parses `args`; when --help is given, prints `usage` and returns nil.
    /// Parses `args` as `init` does, after answering `--help` (prints `usage`) and `--version`
    /// (prints `versionLine`), for which it returns nil: every tool has both.
    public static func parse(_ args: [String], options: [Option], usage: String) throws -> Arguments? {
        if args.contains("--version"), !options.contains(where: { $0.name == "version" }) {
            print(versionLine)
            return nil
        }
        let parsed = try Arguments(args, options: options)
        if parsed.has("help") {
            print(usage)
            return nil
        }
        return parsed
    }

    /// `trm-run 0.2.0` (the executable's name and `TRMVersion`).
    public static var versionLine: String {
        let name = CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent } ?? "trm"
        return "\(name) \(TRMVersion.string)"
    }

    public func has(_ flag: String) -> Bool { flags.contains(flag) }

    public func string(_ name: String) -> String? { values[name] }

    /// An integer option in `range`, or nil when absent.
    public func int(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        guard let s = values[name] else { return nil }
        guard let v = Int(s), range.contains(v) else {
            throw UsageError("--\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(s)'")
        }
        return v
    }

    /// A floating-point option, or nil when absent.
    public func double(_ name: String, in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude)
        throws -> Double?
    {
        guard let s = values[name] else { return nil }
        guard let v = Double(s), v.isFinite, range.contains(v) else {
            throw UsageError("--\(name) must be a number in \(range), got '\(s)'")
        }
        return v
    }

    /// A value from a fixed set (an enum's raw values), or nil when absent.
    public func choice<T: RawRepresentable & CaseIterable>(_ name: String, _: T.Type) throws -> T? where T.RawValue == String {
        guard let s = values[name] else { return nil }
        guard let v = T(rawValue: s) else {
            throw UsageError("--\(name) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got '\(s)'")
        }
        return v
    }

    /// Help text for `options`, aligned.
    public static func helpText(_ options: [Option]) -> String {
        let options =
            options.contains { $0.name == "version" } ? options : options + [Option("version", help: "print the version and exit")]
        let left = options.map { o in
            "  " + (o.short.map { "-\($0), " } ?? "") + "--\(o.name)" + (o.valueName.map { " \($0)" } ?? "")
        }
        let width = (left.map(\.count).max() ?? 0) + 2
        return zip(left, options).map { l, o in l.padding(toLength: width, withPad: " ", startingAt: 0) + o.help }
            .joined(separator: "\n")
    }
}

/// A mistake on the command line: printed with the usage hint, exit code 2.
public struct UsageError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
