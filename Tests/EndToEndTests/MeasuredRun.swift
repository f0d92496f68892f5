import Foundation

/// Runs an executable the way `Executables.run` does, but so that a test can read the child's own
/// peak resident memory and wall time, bound it with a deadline (a hang is killed by its PID and
/// reported, never left running) and give it an environment or a shell prefix such as `ulimit -v`.
///
/// The peak is measured by a small Python parent that forks the tool and reads `wait4`'s rusage.
/// A process's `ru_maxrss` includes the memory image it had before `exec`, and a child forked by
/// the test runner starts from the runner's image (over 200 MB under `swift test`), so the runner
/// cannot measure its own children; a child forked by a 10 MB Python process can be measured.
struct MeasuredRun {
    var status: Int32
    /// The signal that ended the child, if one did.
    var signal: Int32?
    var stdout: String
    var stderr: String
    /// Peak resident set of the tool, in bytes (ru_maxrss; at least the ~10 MB of its Python parent).
    var maxRSSBytes: Int
    var seconds: Double
    var timedOut: Bool

    /// Runs `tool` (an executable built beside the tests) with `args` to the end, or kills it at
    /// `deadline` seconds; `shellPrefix`, when given, runs it through `/bin/sh -c "PREFIX; exec TOOL ARGS"`.
    static func run(
        _ tool: String, _ args: [String], shellPrefix: String? = nil, environment: [String: String] = [:],
        deadline: Double = 60
    ) throws -> MeasuredRun {
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

    /// Forks argv[2:], writes the child's PID to argv[1].pid at once and, when it ends,
    /// "maxrss_kb wait_status" to argv[1]. Python ignores SIGPIPE and SIGXFSZ, and ignored
    /// signals stay ignored across exec: the child gets their default actions back.
    static let reporter = """
        import os, signal, sys
        info = sys.argv[1]
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
            os.execv(sys.argv[2], sys.argv[2:])
        with open(info + ".tmp", "w") as f:
            f.write(str(pid))
        os.rename(info + ".tmp", info + ".pid")
        _, status, usage = os.wait4(pid, 0)
        with open(info + ".tmp", "w") as f:
            f.write(f"{usage.ru_maxrss} {status}")
        os.rename(info + ".tmp", info)
        """

    /// A started tool; `wait` collects it. `pid` is the tool's own.
    final class Child {
        let pid: pid_t
        let reporterPID: pid_t
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
            argv = ["/usr/bin/env", "python3", "-c", MeasuredRun.reporter, dir + "/usage"] + argv
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            FileManager.default.createFile(atPath: dir + "/stdin", contents: Data())
            posix_spawn_file_actions_addopen(&actions, 0, dir + "/stdin", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, dir + "/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_addopen(&actions, 2, dir + "/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
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
            var env = ProcessInfo.processInfo.environment
            for (k, v) in environment { env[k] = v }
            let cArgs = argv.map { strdup($0) } + [nil]
            let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { (cArgs + cEnv).forEach { free($0) } }
            var reporter: pid_t = 0
            let rc = posix_spawn(&reporter, argv[0], &actions, &attributes, cArgs, cEnv)
            guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
            reporterPID = reporter
            // The tool's PID, as soon as the reporter has forked it.
            let pidFile = dir + "/usage.pid"
            var toolPID: pid_t?
            let end = Date().addingTimeInterval(30)
            while toolPID == nil, Date() < end {
                toolPID = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0) }
                if toolPID == nil { usleep(2_000) }
            }
            guard let toolPID else {
                kill(reporter, SIGKILL)
                _ = waitpid(reporter, nil, 0)
                throw POSIXError(.ECHILD)
            }
            pid = toolPID
        }

        /// What the tool has written to standard error so far.
        var stderrSoFar: String { (try? String(contentsOfFile: dir + "/stderr", encoding: .utf8)) ?? "" }

        /// Waits for the tool to end, killing it (by its PID) once `deadline` seconds have passed.
        func wait(deadline: Double) -> MeasuredRun {
            var timedOut = false
            var reporterStatus: Int32 = 0
            while waitpid(reporterPID, &reporterStatus, WNOHANG) != reporterPID {
                if !timedOut, Date().timeIntervalSince(start) > deadline {
                    timedOut = true
                    kill(pid, SIGKILL)
                }
                usleep(5_000)
            }
            let seconds = Date().timeIntervalSince(start)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let usage = ((try? String(contentsOfFile: dir + "/usage", encoding: .utf8)) ?? "").split(separator: " ").compactMap { Int($0) }
            let status = Int32(usage.count == 2 ? usage[1] : 0x7f00)
            let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
            return MeasuredRun(
                status: signaled ? -1 : (status >> 8) & 0xff, signal: signaled ? status & 0x7f : nil,
                stdout: (try? String(contentsOfFile: dir + "/stdout", encoding: .utf8)) ?? "",
                stderr: stderrSoFar, maxRSSBytes: (usage.first ?? Int.max / 1024) * 1024, seconds: seconds,
                timedOut: timedOut)
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
