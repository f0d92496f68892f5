import Foundation

/// Runs an executable the way `Executables.run` does, but with posix_spawn and wait4 so a test can
/// read the child's own peak resident memory and wall time, bound it with a deadline (a hang is
/// killed by its PID and reported, never left running) and give it an environment or a shell
/// prefix such as `ulimit -v`.
struct MeasuredRun {
    var status: Int32
    /// The signal that ended the child, if one did.
    var signal: Int32?
    var stdout: String
    var stderr: String
    /// Peak resident set of the child, in bytes (ru_maxrss).
    var maxRSSBytes: Int
    var seconds: Double
    var timedOut: Bool

    /// Runs `tool` (an executable built beside the tests) with `args` to the end, or kills it at
    /// `deadline` seconds; `shellPrefix`, when given, runs it through `/bin/sh -c "PREFIX; exec TOOL ARGS"`.
    static func run(_ tool: String, _ args: [String], shellPrefix: String? = nil, environment: [String: String] = [:],
                    deadline: Double = 60) throws -> MeasuredRun {
        try Child(tool, args, shellPrefix: shellPrefix, environment: environment).wait(deadline: deadline)
    }

    /// Polls for `path` to exist, up to `seconds`.
    static func waitForFile(_ path: String, seconds: Double = 60) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if FileManager.default.fileExists(atPath: path) { return true }
            usleep(20_000)
        }
        return false
    }

    /// A started child process; `wait` collects it.
    final class Child {
        let pid: pid_t
        let dir: String
        let start = Date()

        init(_ tool: String, _ args: [String], shellPrefix: String? = nil, environment: [String: String] = [:]) throws {
            let exe = Executables.directory.appendingPathComponent(tool).path
            var argv = [exe] + args
            if let shellPrefix {
                let quoted = argv.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
                argv = ["/bin/sh", "-c", "\(shellPrefix); exec \(quoted)"]
            }
            dir = try Executables.temporaryDirectory()
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            FileManager.default.createFile(atPath: dir + "/stdin", contents: Data())
            posix_spawn_file_actions_addopen(&actions, 0, dir + "/stdin", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, dir + "/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_addopen(&actions, 2, dir + "/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            var env = ProcessInfo.processInfo.environment
            for (k, v) in environment { env[k] = v }
            let cArgs = argv.map { strdup($0) } + [nil]
            let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { (cArgs + cEnv).forEach { free($0) } }
            // The child starts with no blocked signals and default handlers, whatever the test
            // runner's thread had (a blocked SIGTERM would otherwise stay blocked in the child).
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var none = sigset_t(), all = sigset_t()
            sigemptyset(&none)
            sigfillset(&all)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setsigdefault(&attributes, &all)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            var pid: pid_t = 0
            let rc = posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, cEnv)
            guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
            self.pid = pid
        }

        /// What the child has written to standard error so far.
        var stderrSoFar: String { (try? String(contentsOfFile: dir + "/stderr", encoding: .utf8)) ?? "" }

        /// Waits for the child to end, killing it (by its PID) once `deadline` seconds have passed.
        func wait(deadline: Double) -> MeasuredRun {
            var status: Int32 = 0
            var usage = rusage()
            var timedOut = false
            while true {
                if wait4(pid, &status, WNOHANG, &usage) == pid { break }
                if Date().timeIntervalSince(start) > deadline {
                    timedOut = true
                    kill(pid, SIGKILL)
                    _ = wait4(pid, &status, 0, &usage)
                    break
                }
                usleep(5_000)
            }
            let seconds = Date().timeIntervalSince(start)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
            return MeasuredRun(status: signaled ? -1 : (status >> 8) & 0xff, signal: signaled ? status & 0x7f : nil,
                               stdout: (try? String(contentsOfFile: dir + "/stdout", encoding: .utf8)) ?? "",
                               stderr: stderrSoFar, maxRSSBytes: usage.ru_maxrss * 1024, seconds: seconds, timedOut: timedOut)
        }
    }
}

extension Executables {
    /// Runs a system program (mount, umount) by its absolute path.
    static func runSystem(_ path: String, _ args: [String]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}
