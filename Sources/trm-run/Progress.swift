import Foundation

/// A progress line on stderr (done/total, rate, ETA), only when stderr is a terminal.
struct ProgressLine {
    let unit: String
    let enabled: Bool
    let start = Date()

    init(unit: String, quiet: Bool) {
        self.unit = unit
        enabled = !quiet && isatty(2) != 0
    }

    func update(_ done: Int, _ total: Int) {
        guard enabled else { return }
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(max(total - done, 0)) / rate : 0
        fputs(String(format: "\r%d/%d %@  %.2f %@/s  ETA %.0f s   ", done, total, unit, rate, unit, eta), stderr)
    }

    func finish() {
        if enabled { fputs("\n", stderr) }
    }

    var seconds: Double { Date().timeIntervalSince(start) }
}
