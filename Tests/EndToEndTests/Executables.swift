import Foundation

#if canImport(Glibc)
    import Glibc
#endif

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

    /// Runs `tool` (a package executable, or the path of one) with `args`; `environment` sets (or,
    /// with nil, removes) variables of the child's; `currentDirectory` is its working directory.
    static func run(
        _ tool: String, _ args: [String], environment: [String: String?] = [:], currentDirectory: String? = nil
    ) throws -> Result {
        let p = process(tool, args, environment: environment, currentDirectory: currentDirectory)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func process(_ tool: String, _ args: [String], environment: [String: String?], currentDirectory: String?) -> Process {
        let p = Process()
        p.executableURL = tool.hasPrefix("/") ? URL(fileURLWithPath: tool) : directory.appendingPathComponent(tool)
        p.arguments = args
        if !environment.isEmpty {
            var env = ProcessInfo.processInfo.environment
            for (k, v) in environment { env[k] = v }
            p.environment = env
        }
        if let currentDirectory { p.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        return p
    }

    /// Runs `tool` as `run` does, with its standard error on a pseudo-terminal (so it draws what a
    /// person at a terminal sees: progress lines); `stderr` is what it wrote there, the terminal's
    /// "\r\n" for each newline.
    static func runWithTerminal(_ tool: String, _ args: [String]) throws -> Result {
        var master: Int32 = -1, slave: Int32 = -1
        guard openpty(&master, &slave, nil, nil, nil) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        defer { close(master) }
        // Not inherited by processes other tests start meanwhile (they would hold the terminal open).
        _ = fcntl(master, F_SETFD, FD_CLOEXEC)
        _ = fcntl(slave, F_SETFD, FD_CLOEXEC)
        let p = process(tool, args, environment: [:], currentDirectory: nil)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        do { try p.run() } catch {
            close(slave)
            throw error
        }
        close(slave)  // the child holds the only copy: reading the master ends (EIO) when it exits
        let terminal = TerminalCapture()
        let reading = DispatchGroup()
        let fd = master
        DispatchQueue.global().async(group: reading) { terminal.read(fd) }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        reading.wait()
        return Result(
            status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: terminal.bytes, as: UTF8.self)
        )
    }

    /// What a pseudo-terminal's master side reads until its slave side is closed.
    final class TerminalCapture: @unchecked Sendable {
        private(set) var bytes: [UInt8] = []

        func read(_ fd: Int32) {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = Glibc.read(fd, &buffer, buffer.count)
                if n > 0 { bytes += buffer[0..<n] } else if n < 0 && errno == EINTR { continue } else { break }
            }
        }
    }

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-e2e-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
