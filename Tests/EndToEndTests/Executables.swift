import Foundation

/// Runs the package's executables (built next to the test bundle) and captures their output.
enum Executables {
    static var directory: URL {
        // The test bundle lives in the build products directory, beside the executables.
        var url = Bundle.main.bundleURL
        for candidate in [url] + Bundle.allBundles.map(\.bundleURL) {
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("trm-train").path) { return candidate }
        }
        url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return url
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `tool` with `args`; `environment` sets (or, with nil, removes) variables of the child's.
    static func run(_ tool: String, _ args: [String], environment: [String: String?] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = directory.appendingPathComponent(tool)
        p.arguments = args
        if !environment.isEmpty {
            var env = ProcessInfo.processInfo.environment
            for (k, v) in environment { env[k] = v }
            p.environment = env
        }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-e2e-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
