import Foundation

/// The signal that arrived while interrupts were deferred (0: none). A plain global of a trivial
/// type, so the handler touches no lazily initialised state.
nonisolated(unsafe) private var deferredSignal: sig_atomic_t = 0

/// Holds back SIGINT, SIGTERM and SIGHUP while a short critical section runs (an atomic file
/// write), then delivers the first one that arrived to the handlers that were in place before.
/// Process-wide handlers rather than a signal mask, because a mask covers one thread only and the
/// runtime's worker threads would still take the signal's default action.
enum InterruptDeferral {
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    private static let lock = NSLock()
    nonisolated(unsafe) private static var depth = 0
    nonisolated(unsafe) private static var previous: [sigaction] = []

    static func run<T>(_ body: () throws -> T) rethrows -> T {
        enter()
        defer { leave() }
        return try body()
    }

    private static func enter() {
        lock.lock()
        defer { lock.unlock() }
        depth += 1
        guard depth == 1 else { return }
        deferredSignal = 0
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            if deferredSignal == 0 { deferredSignal = signal }
        }
        sigemptyset(&action.sa_mask)
        previous = signals.map { sig in
            var old = sigaction()
            sigaction(sig, &action, &old)
            return old
        }
    }

    private static func leave() {
        lock.lock()
        depth -= 1
        guard depth == 0 else { lock.unlock(); return }
        for (sig, old) in zip(signals, previous) {
            var restore = old
            sigaction(sig, &restore, nil)
        }
        let pending = deferredSignal
        deferredSignal = 0
        lock.unlock()
        if pending != 0 { raise(pending) }
    }
}

/// Ignores SIGPIPE while an output is written in place (a FIFO, a pipe behind `/dev/stdout`), so a
/// reader that goes away gives the writer EPIPE, reported as an error, instead of killing the
/// process with no message. The previous action is restored afterwards; nested and concurrent
/// uses share one ignore.
enum BrokenPipe {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var depth = 0
    nonisolated(unsafe) private static var previous = sigaction()

    static func ignored<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        depth += 1
        if depth == 1 {
            var ignore = sigaction()
            ignore.__sigaction_handler.sa_handler = SIG_IGN
            sigemptyset(&ignore.sa_mask)
            sigaction(SIGPIPE, &ignore, &previous)
        }
        lock.unlock()
        defer {
            lock.lock()
            depth -= 1
            if depth == 0 { sigaction(SIGPIPE, &previous, nil) }
            lock.unlock()
        }
        return try body()
    }
}
