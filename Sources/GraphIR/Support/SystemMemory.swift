import Foundation

/// How much memory the process can use: the bound that file readers and the runtime check sizes
/// against before allocating, so that an oversized file or request fails with a clear error instead
/// of swapping or meeting the OOM killer.
public enum SystemMemory {
    /// Bytes available now: `MemAvailable` from /proc/meminfo (free memory plus reclaimable cache),
    /// or physical memory where that is not readable.
    public static func availableBytes() -> Int {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kb = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }), kb > 0 else { return physical }
        return min(physical, kb * 1024)
    }
}
