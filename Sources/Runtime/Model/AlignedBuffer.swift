import Foundation

/// One 64-byte-aligned, zeroed allocation owned by a class, freed on deinit. Sizes are checked
/// against a limit before allocating.
public final class AlignedBuffer {
    public let bytes: Int
    public let base: UnsafeMutableRawPointer

    public init(bytes: Int) throws {
        guard bytes >= 0, bytes <= AlignedBuffer.maxBytes else {
            throw TRMErrorBridge.outOfRange("an allocation of \(bytes) bytes is over the \(AlignedBuffer.maxBytes)-byte limit")
        }
        self.bytes = bytes
        var p: UnsafeMutableRawPointer?
        guard posix_memalign(&p, 64, max(bytes, 64)) == 0, let p else {
            throw TRMErrorBridge.outOfRange("cannot allocate \(bytes) bytes")
        }
        memset(p, 0, max(bytes, 64))
        base = p
    }

    deinit { free(base) }

    /// Largest single allocation: the machine's physical memory.
    public static let maxBytes: Int = Int(ProcessInfo.processInfo.physicalMemory)

    public func floats(at offset: Int) -> UnsafeMutablePointer<Float> {
        (base + offset).assumingMemoryBound(to: Float.self)
    }
}
