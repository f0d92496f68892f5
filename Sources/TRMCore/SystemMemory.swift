import Foundation

/// How much memory the process can use: the bound that file readers and the runtime check sizes
/// against before allocating, so that an oversized file or request fails with a clear error instead
/// of swapping, meeting the OOM killer or dying on a failed allocation.
public enum SystemMemory {
    /// Bytes available now: the smallest of `MemAvailable` from /proc/meminfo (free memory plus
    /// reclaimable cache; physical memory where that is not readable) and the room left under the
    /// process's address-space and data limits (`ulimit -v`, `ulimit -d`), which a container or a
    /// batch scheduler may set far below the machine's memory.
    public static func availableBytes() -> Int {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        var bytes = physical
        if let kb = procField("/proc/meminfo", "MemAvailable:"), kb > 0 { bytes = min(bytes, kb * 1024) }
        if let room = limitHeadroom() { bytes = min(bytes, room) }
        return max(bytes, 0)
    }

    /// Throws a clear error, before anything is allocated, when `bytes` (for `what`) exceed the
    /// memory available now.
    public static func require(_ bytes: Double, for what: String) throws {
        let available = availableBytes()
        guard bytes <= Double(available) else {
            throw TRMError(
                .outOfMemory,
                String(
                    format: "%@ needs about %.1f GB, more than the %.1f GB of memory available", what, bytes / 1e9, Double(available) / 1e9)
            )
        }
    }

    /// Room left under RLIMIT_AS and RLIMIT_DATA, or nil when neither is set.
    public static func limitHeadroom() -> Int? {
        var room: Int?
        for (resource, field) in [(RLIMIT_AS, "VmSize:"), (RLIMIT_DATA, "VmData:")] {
            var limit = rlimit()
            guard getrlimit(Int32(resource.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { continue }
            let used = (procField("/proc/self/status", field) ?? 0) * 1024
            let left = Int(clamping: limit.rlim_cur) - used
            room = min(room ?? left, left)
        }
        return room
    }

    /// The number (in kB) on the line of `file` that starts with `key`.
    static func procField(_ file: String, _ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) })
        else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
}
