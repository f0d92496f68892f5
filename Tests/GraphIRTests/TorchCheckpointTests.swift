import Foundation
import Testing
import TestSupport
@testable import GraphIR
import TRMCore

/// `TorchCheckpoint` against archives written by `TorchZipWriter` in torch.save's layout: every tensor
/// layout a state dict can hold read back exactly, and every kind of broken or hostile file refused
/// with an error that says what is wrong.
@Suite struct TorchCheckpointTests {
    /// A state dict with fp32, bf16 and fp16 tensors, a transposed view, one storage shared by three
    /// tensors (one of them from an offset), a 0-d tensor, a parameter and an int entry.
    static func sample(protocol version: Int = 2, zip64: Bool = false) -> TorchZipWriter {
        var w = TorchZipWriter()
        w.pickleProtocol = version
        w.zip64 = zip64
        w.add("embed.weight", shape: [3, 4], values: (0..<12).map { Float($0) * 0.25 - 1 })
        w.add("norm.weight", shape: [4], values: [1, -2, 0.5, 3.25], dtype: .bfloat16)
        w.add("head.bias", shape: [2], values: [0.125, -6], dtype: .float16)
        let shared = w.addStorage(.float32, [1, 2, 3, 4, 5, 6])
        w.addView("proj.weight_t", storage: shared, shape: [3, 2], strides: [1, 3])
        w.addView("proj.weight", storage: shared, shape: [2, 3], strides: [3, 1])
        w.addView("proj.row1", storage: shared, offset: 3, shape: [3], strides: [1])
        w.add("scalar", shape: [], values: [7])
        w.add("param", shape: [2], values: [9, 10], parameter: true)
        w.entries.append(.int(name: "step", value: 1234))
        return w
    }

    static let expected: [String: NamedTensor] = {
        let list = [
            NamedTensor(name: "embed.weight", shape: [3, 4], values: (0..<12).map { Float($0) * 0.25 - 1 }),
            NamedTensor(name: "norm.weight", shape: [4], values: [1, -2, 0.5, 3.25]),
            NamedTensor(name: "head.bias", shape: [2], values: [0.125, -6]),
            NamedTensor(name: "proj.weight_t", shape: [3, 2], values: [1, 4, 2, 5, 3, 6]),
            NamedTensor(name: "proj.weight", shape: [2, 3], values: [1, 2, 3, 4, 5, 6]),
            NamedTensor(name: "proj.row1", shape: [3], values: [4, 5, 6]),
            NamedTensor(name: "scalar", shape: [], values: [7]),
            NamedTensor(name: "param", shape: [2], values: [9, 10]),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()

    /// The error message `parse` gives, or nil when it accepts the bytes.
    static func refusal(_ bytes: [UInt8]) -> String? {
        do {
            _ = try TorchCheckpoint.parse(bytes)
            return nil
        } catch let e as TRMError {
            return e.message
        } catch {
            return "not a TRMError: \(error)"
        }
    }

    static func expectRefusal(_ bytes: [UInt8], _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let message = refusal(bytes)
        #expect(message?.contains(words) == true, "expected '\(words)', got \(message ?? "acceptance")", sourceLocation: sourceLocation)
    }

    /// An archive whose data.pkl is `pickle`.
    static func archive(pickle: [UInt8]) -> [UInt8] {
        ZipWriter.archive([.init(name: "archive/data.pkl", bytes: pickle), .init(name: "archive/byteorder", bytes: Array("little".utf8))])
    }

    @Test(arguments: [(2, false), (2, true), (4, false), (5, true)])
    func everyLayoutReadsBackExactly(_ version: Int, _ zip64: Bool) throws {
        let state = try TorchCheckpoint.parse(Self.sample(protocol: version, zip64: zip64).archive())
        #expect(state.tensors == Self.expected)
        #expect(state.skipped == ["step"])
    }

    @Test func anyFolderNameAndNoByteOrderRecord() throws {
        var w = Self.sample()
        w.folder = "step_1000"
        w.byteorder = nil
        #expect(try TorchCheckpoint.parse(w.archive()).tensors == Self.expected)
    }

    @Test func readsFilesAndTellsThemFromSafetensors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-torch-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let torch = dir.appendingPathComponent("step_10").path
        let safetensors = dir.appendingPathComponent("model.ckpt").path
        try AtomicFile.write(Self.sample().archive(), to: torch)
        try AtomicFile.write(Safetensors.serialize([Self.expected["param"]!], metadata: [:]), to: safetensors)
        #expect(TorchCheckpoint.isTorchZip(path: torch))
        #expect(!TorchCheckpoint.isTorchZip(path: safetensors))
        #expect(!TorchCheckpoint.isTorchZip(path: dir.appendingPathComponent("missing").path))
        #expect(try TorchCheckpoint.readTensors(path: torch) == Self.expected)
        var broken = Self.sample().archive()
        broken.removeLast(30)
        try AtomicFile.write(broken, to: torch)
        let error = #expect(throws: TRMError.self) { try TorchCheckpoint.readTensors(path: torch) }
        #expect(error?.message.hasPrefix(torch + ": zip: ") == true, "\(String(describing: error))")
    }

    @Test func dangerousGlobalsAreRefusedByName() throws {
        // os.system("echo pwned") as GLOBAL (protocol 2), STACK_GLOBAL (4) and INST.
        for (module, name, version, shown) in [
            ("os", "system", 2, "os.system"), ("posix", "system", 2, "posix.system"), ("builtins", "eval", 4, "builtins.eval"),
            ("__builtin__", "eval", 2, "builtins.eval"), ("torch.storage", "_load_from_bytes", 2, "torch.storage._load_from_bytes"),
            ("torch", "UntypedStorage", 4, "torch.UntypedStorage"),
        ] {
            var p = PickleWriter(protocol: version)
            p.global(module, name)
            p.tuple(1) { $0.string("echo pwned") }
            p.reduce()
            Self.expectRefusal(Self.archive(pickle: p.finish()), "refusing global \(shown)")
        }
        var inst = PickleWriter()
        inst.mark()
        inst.string("echo pwned")
        inst.raw([0x69] + Array("posix\nsystem\n".utf8))
        Self.expectRefusal(Self.archive(pickle: inst.finish()), "refusing global posix.system (INST)")
        // An integer storage type is refused where the persistent id names it.
        let pickle = Self.sample().pickle(), float = Array("torch\nFloatStorage\n".utf8)
        let at = try #require((0..<pickle.count).first { pickle[$0...].starts(with: float) })
        let patched = pickle[..<at] + Array("torch\nLongStorage\n".utf8) + pickle[(at + float.count)...]
        Self.expectRefusal(Self.archive(pickle: Array(patched)), "refusing global torch.LongStorage")
    }

    @Test func brokenArchivesAreRefused() throws {
        let w = Self.sample()
        let good = w.archive()
        var records = w.records()
        // A data byte flipped after writing, and a directory CRC that does not match.
        let storage = records.firstIndex { $0.name == "archive/data/0" }!
        var flipped = good
        flipped[try #require(try ZipArchive(bytes: good).entry(named: "archive/data/0")).dataRange.lowerBound + 5] ^= 0x10
        Self.expectRefusal(flipped, "entry 'archive/data/0' is corrupt: CRC-32")
        var crc = records
        crc[storage].crc = 0x1234_5678
        Self.expectRefusal(ZipWriter.archive(crc), "CRC-32")
        #expect(try TorchCheckpoint.parse(ZipWriter.archive(crc), verifyingChecksums: false).tensors == Self.expected)
        var deflated = records
        deflated[0].method = 8
        Self.expectRefusal(ZipWriter.archive(deflated), "compressed with method 8 (deflate)")
        var missing = records
        missing.remove(at: storage)
        Self.expectRefusal(ZipWriter.archive(missing), "storage '0' has no record archive/data/0")
        var short = records
        short[storage].bytes.removeLast(4)
        Self.expectRefusal(ZipWriter.archive(short), "record archive/data/0 is 44 bytes")
        records[records.firstIndex { $0.name == "archive/byteorder" }!].bytes = Array("big".utf8)
        Self.expectRefusal(ZipWriter.archive(records), "only little-endian")
        Self.expectRefusal(ZipWriter.archive([.init(name: "data.pkl", bytes: w.pickle())]), "not in a folder")
        Self.expectRefusal(ZipWriter.archive([.init(name: "archive/version", bytes: [0x33])]), "no archive/data.pkl")
        let twice = ZipWriter.archive([.init(name: "a/data.pkl", bytes: w.pickle()), .init(name: "a/data.pkl", bytes: [])])
        Self.expectRefusal(twice, "appears twice")
        // Every truncation, and a few thousand single-bit flips: refused or read, never a crash.
        for cut in stride(from: 0, to: good.count, by: 7) { #expect(Self.refusal(Array(good[0..<cut])) != nil, "cut at \(cut)") }
        var rng = SeededRandom(seed: 15)
        for _ in 0..<3000 {
            var bytes = good
            bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(1 << (rng.next() % 8))
            _ = Self.refusal(bytes)
        }
    }

    /// A state dict of one view of a 6-element fp32 storage.
    static func view(offset: Int, shape: [Int], strides: [Int], count: Int = 6) -> [UInt8] {
        var w = TorchZipWriter()
        let s = w.addStorage(.float32, (0..<count).map(Float.init))
        w.addView("t", storage: s, offset: offset, shape: shape, strides: strides)
        return w.archive()
    }

    @Test func viewsOutsideTheirStorageAndAbsurdShapesAreRefused() throws {
        #expect(Self.refusal(Self.view(offset: 5, shape: [1], strides: [1])) == nil)
        Self.expectRefusal(Self.view(offset: 7, shape: [0], strides: [1]), "storage offset 7 is outside storage '0' of 6 elements")
        Self.expectRefusal(Self.view(offset: 6, shape: [1], strides: [1]), "reaches element 6 of storage '0'")
        Self.expectRefusal(Self.view(offset: 0, shape: [2, 3], strides: [4, 1]), "reaches element 6")
        Self.expectRefusal(Self.view(offset: 0, shape: [1 << 31, 1 << 31], strides: [0, 0]), "out of range")
        Self.expectRefusal(Self.view(offset: 0, shape: [(1 << 31) + 1], strides: [0]), "out of range")
        Self.expectRefusal(Self.view(offset: 0, shape: [2, 2], strides: [1 << 40, 1]), "out of range")
        Self.expectRefusal(Self.view(offset: 0, shape: [3, 1 << 30], strides: [1 << 35, 1 << 35]), "past 2^63")
        Self.expectRefusal(Self.view(offset: 0, shape: [2], strides: [1, 1]), "1 dimensions with 2 strides")
        // A zero stride repeats elements; more than 8× the file's storages is refused.
        #expect(
            try TorchCheckpoint.parse(Self.view(offset: 0, shape: [2, 3], strides: [0, 1])).tensors["t"]?.values == [0, 1, 2, 0, 1, 2])
        Self.expectRefusal(Self.view(offset: 0, shape: [4096, 4096], strides: [0, 0]), "more than 8×")
    }

    @Test func malformedPicklesAreRefused() throws {
        func load(_ body: [UInt8], version: UInt8 = 2) -> String? {
            do {
                _ = try RestrictedUnpickler.load(([0x80, version] + body + [0x2E])[...])
                return nil
            } catch let e as TRMError { return e.message } catch { return "\(error)" }
        }
        #expect(load([0x7D]) == nil)  // {}
        #expect(load([0x7D], version: 6)?.contains("protocol 6") == true)
        #expect(load([0x73])?.contains("stack underflow") == true)  // SETITEM on nothing
        #expect(load([0x68, 3])?.contains("memo entry 3") == true)
        #expect(load([UInt8](repeating: 0x28, count: 300))?.contains("marks nest deeper") == true)
        #expect(load([0x58, 0xFF, 0xFF, 0xFF, 0x7F])?.contains("longer than") == true)
        #expect(load([0x58, 9, 0, 0, 0, 0x61])?.contains("needs 9 bytes") == true)
        #expect(load([0x8C, 2, 0xC3, 0x28])?.contains("not UTF-8") == true)
        #expect(load([0x8A, 9] + [UInt8](repeating: 1, count: 9))?.contains("does not fit 64 bits") == true)
        #expect(load([0x5D, 0x81])?.contains("opcode 0x81") == true)  // NEWOBJ
        #expect(load([0x7D, 0x7D, 0x62])?.contains("BUILD is only read") == true)  // BUILD on a plain dict
        #expect(load([0x5D, 0x4B, 1, 0x4B, 2, 0x73])?.contains("not a dict") == true)  // SETITEM on a list
        #expect(load([0x4B, 1, 0x29, 0x52])?.contains("REDUCE calls an int") == true)
        #expect(load([0x63] + Array(String(repeating: "a", count: 300).utf8) + [0x0A])?.contains("no newline") == true)
        #expect(Self.refusal(Self.archive(pickle: [0x80, 2, 0x5D, 0x2E]))?.contains("a list, not a state dict") == true)
        // A list that holds itself, and 100,000 nested tuples: values never nest, so neither recurses.
        #expect(load([0x5D, 0x71, 0, 0x68, 0, 0x61]) == nil)
        #expect(load([0x4E] + [UInt8](repeating: 0x85, count: 100_000)) == nil)
        #expect(load([UInt8](repeating: 0x4E, count: RestrictedUnpickler.maxStack + 1))?.contains("stack grows past") == true)
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let python = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        .map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Files written by CPython's own pickler and zipfile with stand-ins for the torch globals
    /// (tools/fake_torch_save.py): the opcodes torch.save's pickler really emits (BINPUT then
    /// LONG_BINPUT past 256 memo entries, SETITEMS in batches of 1000, LONG1, protocols 4 and 5 with
    /// FRAME and MEMOIZE) and another writer's zip layout (no padding; zip64 extra fields).
    @Test(.enabled(if: python != nil, "needs python3"))
    func cpythonWrittenStateDictsAreRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-cpython-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.python))
        process.arguments = [Self.root.appendingPathComponent("tools/fake_torch_save.py").path, dir.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "tools/fake_torch_save.py failed")
        for (name, count) in [("p2", 1100), ("p4", 300), ("p5", 5)] {
            let path = dir.appendingPathComponent("\(name).pt").path
            #expect(TorchCheckpoint.isTorchZip(path: path))
            let state = try TorchCheckpoint.parse(try AtomicFile.read(path, limit: 1 << 24))
            #expect(state.tensors.count == count && state.skipped == ["step"], "\(name)")
            for i in 0..<count {
                // Every third tensor is bf16, truncated from fp32 by the writer.
                let v = i % 3 == 2 ? Float(bitPattern: Float(i).bitPattern & 0xFFFF_0000) : Float(i)
                let t = state.tensors["layers.\(i).weight"]
                #expect(t?.values == [v, -v] && t?.shape == [2], "\(name): layers.\(i).weight")
            }
        }
    }

    /// Fuzz/seeds/torch-zip holds exactly what the writer makes of these state dicts;
    /// `TRM_WRITE_SEEDS=1` rewrites them (`make fuzz-seeds`).
    @Test func fuzzSeedsAreTheWritersOutput() throws {
        var one = TorchZipWriter()
        one.add("lm_head.weight", shape: [2, 2], values: [1, 2, 3, 4])
        let seeds: [String: [UInt8]] = [
            "state-dict-p2.pt": Self.sample().archive(), "state-dict-p4.pt": Self.sample(protocol: 4).archive(),
            "state-dict-zip64.pt": Self.sample(zip64: true).archive(), "one-tensor.pt": one.archive(),
        ]
        let dir = Self.root.appendingPathComponent("Fuzz/seeds/torch-zip")
        if ProcessInfo.processInfo.environment["TRM_WRITE_SEEDS"] == "1" {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for (name, bytes) in seeds { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }
        #expect(Set(names) == Set(seeds.keys), "Fuzz/seeds/torch-zip has \(names.sorted()); run with TRM_WRITE_SEEDS=1")
        for (name, bytes) in seeds {
            #expect(
                (try? Data(contentsOf: dir.appendingPathComponent(name))) == Data(bytes), "\(name) is stale; run with TRM_WRITE_SEEDS=1")
            #expect(try TorchCheckpoint.parse(bytes).tensors.isEmpty == false)
        }
    }
}
