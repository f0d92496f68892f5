import Foundation

/// A progress line on stderr (done/total, rate, ETA), only when stderr is a terminal. The total is
/// known before the work starts, so the first line (drawn at once, at 0) already shows it.
struct ProgressLine {
    let unit: String
    let total: Int
    let enabled: Bool
    let start = Date()

    init(unit: String, total: Int, quiet: Bool) {
        self.unit = unit
        self.total = total
        enabled = !quiet && isatty(2) != 0
        update(0)
    }

    /// Redraws the line with `done` of the total finished.
    func update(_ done: Int) {
        guard enabled else { return }
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = rate > 0 ? String(format: "%.0f s", Double(max(total - done, 0)) / rate) : "-"
        fputs(String(format: "\r%d/%d %@  %.2f %@/s  ETA %@   ", done, total, unit, rate, unit, eta), stderr)
    }

    func finish() {
        if enabled { fputs("\n", stderr) }
    }

    var seconds: Double { Date().timeIntervalSince(start) }
}
