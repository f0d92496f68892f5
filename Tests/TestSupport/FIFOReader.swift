import Foundation

/// Reads a FIFO on its own thread, for tests of writers that meet FIFOs: the blocking open waits for
/// the writer, then everything up to EOF (or the first `closeAfter` bytes) is collected.
public final class FIFOReader: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var collected: [UInt8] = []
    private let finished = DispatchSemaphore(value: 0)
    private let timeout: Double

    /// Starts reading `path`; `finish` waits at most `timeout` seconds for the writer to close it.
    public init(_ path: String, closeAfter: Int? = nil, timeout: Double = 10) {
        self.path = path
        self.timeout = timeout
        Thread.detachNewThread { [self] in
            let fd = open(path, O_RDONLY)
            if fd >= 0 {
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                while true {
                    let n = read(fd, &buffer, buffer.count)
                    if n <= 0 { break }
                    lock.lock()
                    collected += buffer[0..<n]
                    let count = collected.count
                    lock.unlock()
                    if let closeAfter, count >= closeAfter { break }
                }
                close(fd)
            }
            finished.signal()
        }
    }

    /// The bytes read. A reader still blocked in open (no writer came) is released by opening the
    /// FIFO for writing once, so a failing test does not leave a thread behind.
    public func finish() -> [UInt8] {
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            let w = open(path, O_WRONLY | O_NONBLOCK)
            if w >= 0 { close(w) }
            _ = finished.wait(timeout: .now() + 5)
        }
        lock.lock()
        defer { lock.unlock() }
        return collected
    }
}
