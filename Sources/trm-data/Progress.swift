import Foundation

/// A one-line progress report on stderr (done/total, rate, ETA), redrawn at most ten times a second
/// and only when stderr is a terminal, so logs and pipes stay clean.
final class Progress: @unchecked Sendable {
    private let total: Int
    private let unit: String
    private let enabled: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let lock = NSLock()

    init(total: Int, unit: String, quiet: Bool) {
        self.total = total
        self.unit = unit
        enabled = !quiet && isatty(2) != 0
    }

    /// Reports `done` finished items; safe to call from any thread.
    func update(_ done: Int) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard done == total || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let totalText = total > 0 ? "/\(total)" : ""
        fputs(String(format: "\r%d%@ %@  %.1f/s  ETA %@ ", done, totalText, unit, rate, Progress.duration(eta)), stderr)
    }

    /// Ends the line.
    func finish() {
        if enabled { fputs("\n", stderr) }
    }

    /// Seconds since the report started.
    var elapsed: Double { Date().timeIntervalSince(start) }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}

/// min / median / mean / max of integer values, for summaries.
func summary(_ values: [Int]) -> String {
    guard !values.isEmpty else { return "-" }
    let sorted = values.sorted()
    let mean = Double(values.reduce(0, +)) / Double(values.count)
    return String(format: "min %d, median %d, mean %.1f, max %d", sorted[0], sorted[sorted.count / 2], mean, sorted[sorted.count - 1])
}
