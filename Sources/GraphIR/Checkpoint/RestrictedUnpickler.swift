import Foundation
import TRMCore

/// A pickle reader for tensor state dicts (docs/formats.md §1.6), written so that a hostile pickle can
/// do nothing but fail. It knows the protocol 2-5 opcodes that `torch.save` of a state dict uses and
/// builds values only: it imports nothing and calls nothing. A `GLOBAL` or `STACK_GLOBAL` outside
/// `PickleGlobal` is refused by name ("refusing global os.system") the moment it is read; `REDUCE`
/// is interpreted for the allowed globals alone (an empty `OrderedDict`, `_rebuild_tensor_v2`,
/// `_rebuild_parameter`), `BUILD` only sets the state of an `OrderedDict` (ignored), and a persistent
/// id must be a torch storage. The stack, the mark nesting, the memo, strings and integers are capped.
public enum RestrictedUnpickler {
    /// Largest pickle accepted (a state dict's `data.pkl` is about 200 bytes per tensor).
    public static let maxBytes = 1 << 26
    /// Most values on the stack, across every mark.
    public static let maxStack = 1 << 16
    /// Deepest nesting of `MARK`s (a state dict needs 3).
    public static let maxMarks = 256
    /// Most memo entries.
    public static let maxMemo = 1 << 20
    /// Longest string, in bytes.
    public static let maxStringBytes = 1 << 20
    /// Longest module or name of a `GLOBAL`, in bytes.
    static let maxGlobalBytes = 256

    static func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "pickle: \(why)") }

    /// Unpickles `bytes`, which must end with a `STOP`.
    public static func load(_ bytes: ArraySlice<UInt8>) throws -> UnpickledObject {
        guard bytes.count <= maxBytes else { throw fail("\(bytes.count) bytes, over the limit of \(maxBytes)") }
        var machine = Machine(reader: ByteReader(ByteSource(Array(bytes)), fail: fail))
        return try machine.run()
    }

    /// The unpickler's state: the stack (marks are positions in it), the memo and the tables being built.
    struct Machine {
        var reader: ByteReader
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]
        var out = UnpickledObject()
        var storageKeys: [String: Int] = [:]

        mutating func run() throws -> UnpickledObject {
            while true {
                let at = reader.position
                let op = try reader.u8("opcode")
                do {
                    if op == 0x2E {  // STOP
                        out.root = try pop()
                        return out
                    }
                    try step(op)
                } catch let e as TRMError {
                    throw TRMError(e.kind, "\(e.message) (opcode 0x\(String(op, radix: 16)) at byte \(at))")
                }
            }
        }

        mutating func step(_ op: Int) throws {
            switch op {
            case 0x80:  // PROTO
                let version = try reader.u8("protocol")
                guard (2...5).contains(version) else { throw fail("protocol \(version) is not supported (2 to 5 are)") }
            case 0x95: _ = try reader.take(8, "frame length")  // FRAME: a hint for buffered readers
            case 0x28:  // MARK
                guard marks.count < maxMarks else { throw fail("marks nest deeper than \(maxMarks)") }
                marks.append(stack.count)
            case 0x7D: try push(.dict(Self.new(&out.dicts, PickleDict(ordered: false))))  // EMPTY_DICT
            case 0x5D: try push(.list(Self.new(&out.lists, [])))  // EMPTY_LIST
            case 0x29: try push(.tuple(Self.new(&out.tuples, [])))  // EMPTY_TUPLE
            case 0x74, 0x85, 0x86, 0x87:  // TUPLE, TUPLE1-3
                let items = op == 0x74 ? try popMark() : try pop(op - 0x84)
                try push(.tuple(Self.new(&out.tuples, items)))
            case 0x58: try push(.string(string(Int(try reader.u32("string length")))))  // BINUNICODE
            case 0x8C: try push(.string(string(try reader.u8("string length"))))  // SHORT_BINUNICODE
            case 0x8D:  // BINUNICODE8
                let n = try reader.u64("string length")
                try push(.string(string(n > UInt64(maxStringBytes) ? maxStringBytes + 1 : Int(n))))
            case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try reader.u32("int")))))  // BININT
            case 0x4B: try push(.int(try reader.u8("int")))  // BININT1
            case 0x4D: try push(.int(try reader.u16("int")))  // BININT2
            case 0x8A: try push(.int(try long(try reader.u8("long length"))))  // LONG1
            case 0x47: try push(.float(Double(bitPattern: try reader.u64("float").byteSwapped)))  // BINFLOAT (big-endian)
            case 0x88: try push(.bool(true))  // NEWTRUE
            case 0x89: try push(.bool(false))  // NEWFALSE
            case 0x4E: try push(.none)  // NONE
            case 0x71: try put(try reader.u8("memo index"))  // BINPUT
            case 0x72: try put(try reader.u32("memo index"))  // LONG_BINPUT
            case 0x94: try put(memo.count)  // MEMOIZE
            case 0x68, 0x6A:  // BINGET, LONG_BINGET
                let i = try op == 0x68 ? reader.u8("memo index") : reader.u32("memo index")
                guard let v = memo[i] else { throw fail("memo entry \(i) was never stored") }
                try push(v)
            case 0x73:  // SETITEM
                let items = try pop(2)
                try setItems(items)
            case 0x75: try setItems(try popMark())  // SETITEMS
            case 0x61: try append(try pop(1))  // APPEND
            case 0x65: try append(try popMark())  // APPENDS
            case 0x63:  // GLOBAL
                let module = try line("module"), name = try line("name")
                try push(.global(try Self.global(module, name)))
            case 0x93:  // STACK_GLOBAL
                let pair = try pop(2)
                guard case .string(let module) = pair[0], case .string(let name) = pair[1] else {
                    throw fail("STACK_GLOBAL needs two strings, got \(pair[0].kind) and \(pair[1].kind)")
                }
                try push(.global(try Self.global(module, name)))
            case 0x69:  // INST would call the class it names: refuse it by that name.
                let module = try line("module"), name = try line("name")
                throw fail("refusing global \(Self.qualified(module, name)) (INST)")
            case 0x52: try reduce()  // REDUCE
            case 0x51: try push(.storage(try persistentLoad(try pop())))  // BINPERSID
            case 0x62:  // BUILD
                let state = try pop()
                guard case .dict(let d) = try peek(), out.dicts[d].ordered, case .dict = state else {
                    throw fail("BUILD is only read for the state of an OrderedDict")
                }
            default:
                let ch = (0x21...0x7E).contains(op) ? " ('\(Character(UnicodeScalar(UInt8(op))))')" : ""
                throw fail("opcode 0x\(String(op, radix: 16))\(ch) is not supported in a tensor state dict")
            }
        }

        // MARK: stack

        /// The lowest stack position the current mark lets an opcode reach.
        var base: Int { marks.last ?? 0 }

        mutating func push(_ v: PickleValue) throws {
            guard stack.count < maxStack else { throw fail("the stack grows past \(maxStack) values") }
            stack.append(v)
        }

        mutating func pop() throws -> PickleValue { try pop(1)[0] }

        /// The top `n` values, deepest first.
        mutating func pop(_ n: Int) throws -> [PickleValue] {
            guard stack.count - base >= n else { throw fail("stack underflow") }
            defer { stack.removeLast(n) }
            return Array(stack.suffix(n))
        }

        func peek() throws -> PickleValue {
            guard stack.count > base else { throw fail("stack underflow") }
            return stack[stack.count - 1]
        }

        /// The values pushed since the last MARK, which is removed.
        mutating func popMark() throws -> [PickleValue] {
            guard let mark = marks.popLast() else { throw fail("no MARK to pop to") }
            defer { stack.removeSubrange(mark...) }
            return Array(stack[mark...])
        }

        static func new<T>(_ table: inout [T], _ value: T) -> Int {
            table.append(value)
            return table.count - 1
        }

        mutating func put(_ index: Int) throws {
            guard memo.count < maxMemo || memo[index] != nil else { throw fail("the memo grows past \(maxMemo) entries") }
            memo[index] = try peek()
        }

        // MARK: values

        mutating func string(_ length: Int) throws -> String {
            guard length <= maxStringBytes else { throw fail("a string longer than \(maxStringBytes) bytes") }
            let r = try reader.take(length, "string")
            guard let s = String(bytes: reader.bytes[r], encoding: .utf8) else { throw fail("a string that is not UTF-8") }
            return s
        }

        /// A little-endian two's-complement integer of `n` bytes that must fit an Int.
        mutating func long(_ n: Int) throws -> Int {
            guard n <= 8 else { throw fail("an integer of \(n) bytes does not fit 64 bits") }
            guard n > 0 else { return 0 }
            var v = try reader.uint(n, "long")
            if n < 8, v >> (8 * UInt64(n) - 1) != 0 { v |= ~0 << (8 * UInt64(n)) }
            return Int(bitPattern: UInt(v))
        }

        mutating func line(_ what: String) throws -> String {
            let r = try reader.line(limit: maxGlobalBytes, "global \(what)")
            guard let s = String(bytes: reader.bytes[r], encoding: .utf8) else { throw fail("a global \(what) that is not UTF-8") }
            return s
        }

        static func qualified(_ module: String, _ name: String) -> String {
            // Protocol 2 pickles written by Python 3 spell `builtins` as Python 2 did.
            (module == "__builtin__" ? "builtins" : module) + "." + name
        }

        static func global(_ module: String, _ name: String) throws -> PickleGlobal {
            let full = qualified(module, name)
            guard let g = PickleGlobal(rawValue: full) else {
                throw fail(
                    "refusing global \(full): a tensor state dict needs only "
                        + PickleGlobal.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return g
        }
    }
}
