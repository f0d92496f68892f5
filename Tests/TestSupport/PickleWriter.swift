/// Pickle opcodes written one call at a time, as CPython's pickler writes a torch state dict: protocol 2
/// (what `torch.save` uses: `GLOBAL`, `BINPUT`, `BINUNICODE`) or protocol 4 and up (`FRAME`,
/// `STACK_GLOBAL`, `MEMOIZE`, `SHORT_BINUNICODE`). Globals and strings are memoised and reused
/// through `BINGET`, as the pickler does. For tests and fuzz seeds of `RestrictedUnpickler`,
/// including pickles that must be refused.
public struct PickleWriter {
    public let version: Int
    public private(set) var body: [UInt8] = []
    private var memoCount = 0
    private var memoised: [String: Int] = [:]

    public init(protocol version: Int = 2) {
        self.version = version
    }

    /// The whole pickle: PROTO, a FRAME around the body from protocol 4 on, the body and STOP.
    public func finish() -> [UInt8] {
        var out: [UInt8] = [0x80, UInt8(version)]
        let rest = body + [0x2E]
        if version >= 4 { out += [0x95] + le(rest.count, 8) }
        return out + rest
    }

    public mutating func op(_ byte: UInt8) { body.append(byte) }
    public mutating func raw(_ bytes: [UInt8]) { body += bytes }

    public mutating func mark() { op(0x28) }
    public mutating func reduce() { op(0x52) }
    public mutating func build() { op(0x62) }
    public mutating func persistentID() { op(0x51) }
    public mutating func setItem() { op(0x73) }
    public mutating func setItems() { op(0x75) }
    public mutating func emptyDict() { op(0x7D) }
    public mutating func emptyList() { op(0x5D) }
    public mutating func none() { op(0x4E) }
    public mutating func bool(_ b: Bool) { op(b ? 0x88 : 0x89) }

    /// Stores the top of the stack in the memo (BINPUT or LONG_BINPUT; MEMOIZE from protocol 4).
    @discardableResult
    public mutating func put() -> Int {
        if version >= 4 {
            op(0x94)
        } else if memoCount < 256 {
            raw([0x71, UInt8(memoCount)])
        } else {
            raw([0x72] + le(memoCount, 4))
        }
        memoCount += 1
        return memoCount - 1
    }

    public mutating func get(_ index: Int) {
        if index < 256 { raw([0x68, UInt8(index)]) } else { raw([0x6A] + le(index, 4)) }
    }

    /// `module.name` (GLOBAL, or two strings and STACK_GLOBAL from protocol 4), memoised.
    public mutating func global(_ module: String, _ name: String) {
        if let i = memoised["global " + module + "." + name] { return get(i) }
        if version >= 4 {
            string(module)
            string(name)
            op(0x93)
        } else {
            raw([0x63] + Array((module + "\n" + name + "\n").utf8))
        }
        memoised["global " + module + "." + name] = put()
    }

    public mutating func string(_ s: String) {
        if let i = memoised["string " + s] { return get(i) }
        let utf8 = Array(s.utf8)
        if version >= 4 && utf8.count < 256 { raw([0x8C, UInt8(utf8.count)] + utf8) } else { raw([0x58] + le(utf8.count, 4) + utf8) }
        memoised["string " + s] = put()
    }

    /// The shortest int opcode for `i`, as the pickler picks it.
    public mutating func int(_ i: Int) {
        if (0..<256).contains(i) {
            raw([0x4B, UInt8(i)])
        } else if (0..<65536).contains(i) {
            raw([0x4D] + le(i, 2))
        } else if Int(Int32.min)...Int(Int32.max) ~= i {
            raw([0x4A] + le(Int(UInt32(bitPattern: Int32(i))), 4))
        } else {
            var n = 8
            while n > 1, (i >> (8 * (n - 1) - 1)) == (i >> 63) { n -= 1 }
            raw([0x8A, UInt8(n)] + (0..<n).map { UInt8(truncatingIfNeeded: i >> (8 * $0)) })
        }
    }

    /// A tuple of the `count` values `items` writes (EMPTY_TUPLE, TUPLE1-3, or MARK … TUPLE), memoised.
    public mutating func tuple(_ count: Int, _ items: (inout PickleWriter) -> Void) {
        if count == 0 {
            op(0x29)
            return
        }
        if count > 3 { mark() }
        items(&self)
        op(count > 3 ? 0x74 : UInt8(0x84 + count))
        put()
    }

    /// A tuple of ints (a tensor's size or stride).
    public mutating func ints(_ values: [Int]) {
        tuple(values.count) { w in for v in values { w.int(v) } }
    }

    /// An empty `collections.OrderedDict()`, as the pickler reduces one, memoised.
    public mutating func orderedDict() {
        global("collections", "OrderedDict")
        op(0x29)
        reduce()
        put()
    }
}

/// `value` as `count` little-endian bytes.
func le(_ value: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
