import CProtobufC
import Foundation
import TRMCore

/// Owns every C allocation made while building a protobuf-c message tree for packing, and frees
/// them all at once. Keeps the unsafe pointer work of the writer in one place.
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { for b in blocks { free(b) } }

    /// Zeroed storage for `count` values of `T` (at least one byte, so calloc never returns nil
    /// legitimately); an `.outOfMemory` error when the memory cannot be had.
    func allocate<T>(_: T.Type, count: Int = 1) throws -> UnsafeMutablePointer<T> {
        let (size, overflow) = MemoryLayout<T>.stride.multipliedReportingOverflow(by: count)
        let bytes = max(1, size)
        guard !overflow, let raw = calloc(1, bytes) else {
            throw TRMError(.outOfMemory, "cannot allocate \(count) × \(MemoryLayout<T>.stride) bytes while packing the model")
        }
        blocks.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(1, count))
    }

    /// A message struct initialised by protoc-c's `*__init` function.
    func message<T>(_ initialise: (UnsafeMutablePointer<T>) -> Void) throws -> UnsafeMutablePointer<T> {
        let p = try allocate(T.self)
        initialise(p)
        return p
    }

    /// A NUL-terminated copy of `s`.
    func cString(_ s: String) throws -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(s.utf8CString)
        let p = try allocate(CChar.self, count: utf8.count)
        utf8.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: utf8.count) }
        return p
    }

    /// An array of C strings.
    func cStrings(_ strings: [String]) throws -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let p = try allocate(UnsafeMutablePointer<CChar>?.self, count: strings.count)
        for (i, s) in strings.enumerated() { p[i] = try cString(s) }
        return p
    }

    /// A copy of `values` in C memory.
    func array<T>(_ values: [T]) throws -> UnsafeMutablePointer<T> {
        let p = try allocate(T.self, count: values.count)
        values.withUnsafeBufferPointer { if let b = $0.baseAddress { p.update(from: b, count: values.count) } }
        return p
    }

    /// An array of message pointers.
    func pointers<T>(_ items: [UnsafeMutablePointer<T>]) throws -> UnsafeMutablePointer<UnsafeMutablePointer<T>?> {
        let p = try allocate(UnsafeMutablePointer<T>?.self, count: items.count)
        for (i, item) in items.enumerated() { p[i] = item }
        return p
    }

    /// Bytes for a `bytes` field.
    func binary(_ bytes: UnsafeRawBufferPointer) throws -> ProtobufCBinaryData {
        let p = try allocate(UInt8.self, count: bytes.count)
        if bytes.count > 0 { UnsafeMutableRawPointer(p).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }
}

/// Reading helpers for unpacked protobuf-c messages, which validate what they read.
enum CRead {
    /// A Swift string from an optional C string; nil stays nil. Refuses strings over
    /// `TrmgFormat.maxStringBytes` before copying them.
    static func string(_ p: UnsafeMutablePointer<CChar>?) throws -> String? {
        guard let p else { return nil }
        guard strnlen(p, TrmgFormat.maxStringBytes + 1) <= TrmgFormat.maxStringBytes else {
            throw TRMError(.malformedFile, "a string is longer than \(TrmgFormat.maxStringBytes) bytes")
        }
        return String(cString: p)
    }

    /// The elements of a repeated field as a Swift array; refuses more than
    /// `TrmgFormat.maxRepeated` before copying them.
    static func array<T>(_ p: UnsafeMutablePointer<T>?, _ n: Int) throws -> [T] {
        guard let p, n > 0 else { return [] }
        guard n <= TrmgFormat.maxRepeated else {
            throw TRMError(.malformedFile, "a list of \(n) entries, over the \(TrmgFormat.maxRepeated)-entry limit")
        }
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    /// The non-nil message pointers of a repeated message field; a nil entry is a malformed file.
    static func messages<T>(_ p: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?, _ n: Int, _ what: String) throws -> [UnsafeMutablePointer<
        T
    >] {
        try array(p, n).map {
            guard let m = $0 else { throw TRMError(.malformedFile, "\(what): missing entry") }
            return m
        }
    }

    static func strings(_ p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ n: Int, _ what: String) throws -> [String] {
        try array(p, n).map {
            guard let s = try string($0) else { throw TRMError(.malformedFile, "\(what): missing string") }
            return s
        }
    }
}
