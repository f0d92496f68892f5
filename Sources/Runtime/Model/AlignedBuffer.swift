import Foundation
import GraphIR
import TRMCore

/// One 64-byte-aligned, zeroed allocation owned by a class, freed on deinit. Sizes are checked
/// against a limit before allocating; a size over it or a failed allocation is an `.outOfMemory` error.
public final class AlignedBuffer {
    public let bytes: Int
    public let base: UnsafeMutableRawPointer

    public init(bytes: Int) throws {
        guard bytes >= 0 else { throw TRMErrorBridge.outOfRange("a negative allocation size (\(bytes) bytes)") }
        guard bytes <= AlignedBuffer.maxBytes else {
            throw TRMErrorBridge.outOfMemory(
                "an allocation of \(bytes) bytes is over the \(AlignedBuffer.maxBytes)-byte limit (available memory)")
        }
        self.bytes = bytes
        var p: UnsafeMutableRawPointer?
        let rc = posix_memalign(&p, 64, max(bytes, 64))
        guard rc == 0, let p else {
            throw TRMErrorBridge.outOfMemory("cannot allocate \(bytes) bytes: \(String(cString: strerror(rc == 0 ? ENOMEM : rc)))")
        }
        memset(p, 0, max(bytes, 64))
        base = p
    }

    deinit { free(base) }

    /// Largest single allocation the runtime makes (weights, a session's activation arena, its
    /// workspaces). The default is the memory available when first read (`MemAvailable` in
    /// /proc/meminfo, else physical memory), so a file that declares more fails with a clear error
    /// instead of sending the machine into swap or the OOM killer. Embedders that open untrusted
    /// models may lower it; set it before opening models.
    nonisolated(unsafe) public static var maxBytes: Int = SystemMemory.availableBytes()

    /// The size in bytes of `count` elements of `elementBytes` each, or a clear error when it
    /// overflows or exceeds `maxBytes`.
    public static func checkedSize(_ count: Int, _ elementBytes: Int, what: String) throws -> Int {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementBytes)
        guard count >= 0 else { throw TRMErrorBridge.outOfRange("\(what) has a negative element count (\(count))") }
        guard !overflow, bytes <= maxBytes else {
            throw TRMErrorBridge.outOfMemory(
                "\(what) needs \(count) × \(elementBytes) bytes, over the \(maxBytes)-byte limit of this machine's available memory")
        }
        return bytes
    }

    public func floats(at offset: Int) -> UnsafeMutablePointer<Float> {
        (base + offset).assumingMemoryBound(to: Float.self)
    }
}
