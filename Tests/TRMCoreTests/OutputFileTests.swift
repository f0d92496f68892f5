import Foundation
import Testing
@testable import TRMCore
import TestSupport

/// A scratch directory with the device nodes, FIFOs, sockets and links the output policy meets.
/// Nodes are made here, never at the real /dev paths (the tests run as root).
struct OutputScratch {
    let dir: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-output-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    func path(_ name: String) -> String { dir + "/" + name }

    /// A character device node (1,3 is the null device, 1,7 the full device: writes fail with ENOSPC).
    func charDevice(_ name: String, major: UInt32, minor: UInt32) throws -> String {
        let p = path(name)
        guard mknod(p, S_IFCHR | 0o666, dev_t((major << 8) | minor)) == 0 else {
            throw TRMError(.io, "mknod \(p): \(String(cString: strerror(errno)))")
        }
        return p
    }

    func fifo(_ name: String) throws -> String {
        let p = path(name)
        guard mkfifo(p, 0o644) == 0 else { throw TRMError(.io, "mkfifo \(p): \(String(cString: strerror(errno)))") }
        return p
    }

    func symlink(_ name: String, to target: String) throws -> String {
        let p = path(name)
        guard Glibc.symlink(target, p) == 0 else { throw TRMError(.io, "symlink \(p): \(String(cString: strerror(errno)))") }
        return p
    }

    func file(_ name: String, _ text: String, mode: mode_t = 0o644) throws -> String {
        let p = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: p))
        chmod(p, mode)
        return p
    }

    /// Names in the directory that look like a writer's temp file.
    var tempFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains(".tmp-") }
    }

    static func kind(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
    }

    /// stat(2) following links.
    static func info(_ path: String) -> Glibc.stat? {
        var st = Glibc.stat()
        return stat(path, &st) == 0 ? st : nil
    }

    static func text(_ path: String) -> String? {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// The output policy of `OutputFile` (and `AtomicFile`, which every writer calls), case by case.
/// Serialized: two tests changing SIGPIPE's action at once would confuse the check that it is restored.
@Suite(.serialized) struct OutputFileTests {
    let bytes = Array("trm output policy\n".utf8)

    @Test func newRegularFileIsCreated() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        try AtomicFile.write(bytes, to: s.path("new.bin"))
        #expect(OutputScratch.kind(s.path("new.bin")) == S_IFREG)
        #expect(OutputScratch.text(s.path("new.bin")) == String(decoding: bytes, as: UTF8.self))
        #expect(s.tempFiles.isEmpty)
    }

    @Test(arguments: [0o600, 0o640, 0o755] as [mode_t])
    func existingRegularFileIsReplacedWithItsMode(mode: mode_t) throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let p = try s.file("old.bin", "old contents", mode: mode)
        let before = try #require(OutputScratch.info(p))
        try AtomicFile.write(bytes, to: p)
        let after = try #require(OutputScratch.info(p))
        #expect(after.st_mode & 0o777 == mode)
        #expect(after.st_ino != before.st_ino, "replaced by rename, not rewritten in place")
        #expect(OutputScratch.text(p) == String(decoding: bytes, as: UTF8.self))
        #expect(s.tempFiles.isEmpty)
    }

    @Test func symlinkToRegularFileWritesTheTargetAndKeepsTheLink() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let target = try s.file("target.bin", "old", mode: 0o640)
        let link = try s.symlink("link.bin", to: "target.bin")
        try AtomicFile.write(bytes, to: link)
        #expect(OutputScratch.kind(link) == S_IFLNK)
        #expect(OutputScratch.text(target) == String(decoding: bytes, as: UTF8.self))
        #expect((OutputScratch.info(target)?.st_mode ?? 0) == S_IFREG | 0o640)
        #expect(try OutputFile.destination(of: link) == .file(path: s.dir + "/target.bin", existingMode: 0o640))
    }

    @Test func chainOfRelativeLinksAcrossDirectories() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        try FileManager.default.createDirectory(atPath: s.path("sub"), withIntermediateDirectories: true)
        let target = try s.file("final.bin", "old")
        _ = try s.symlink("sub/hop2", to: "../final.bin")  // relative to sub/, not to the first link
        let first = try s.symlink("hop1", to: "sub/hop2")
        try AtomicFile.write(bytes, to: first)
        #expect(OutputScratch.kind(first) == S_IFLNK && OutputScratch.kind(s.path("sub/hop2")) == S_IFLNK)
        #expect(OutputScratch.text(target) == String(decoding: bytes, as: UTF8.self))
    }

    @Test func danglingLinkCreatesItsTarget() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let link = try s.symlink("link.bin", to: s.path("created.bin"))
        try OutputFile.checkWritable(link)
        try AtomicFile.write(bytes, to: link)
        #expect(OutputScratch.kind(link) == S_IFLNK)
        #expect(OutputScratch.text(s.path("created.bin")) == String(decoding: bytes, as: UTF8.self))

        let nowhere = try s.symlink("nowhere.bin", to: "missing-dir/x.bin")
        #expect(throws: TRMError.self) { try OutputFile.checkWritable(nowhere) }
        let error = try #require(throws: TRMError.self) { try AtomicFile.write(bytes, to: nowhere) }
        #expect(error.message.contains("missing-dir") && error.message.contains("does not exist"), "\(error)")
    }

    @Test func linkLoopIsAClearError() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let a = try s.symlink("a", to: "b")
        _ = try s.symlink("b", to: "a")
        let error = try #require(throws: TRMError.self) { try AtomicFile.write(bytes, to: a) }
        #expect(error.message.contains("symbolic links") && error.message.contains("loop"), "\(error)")
        #expect(throws: TRMError.self) { try OutputFile.checkWritable(a) }
        #expect(OutputScratch.kind(a) == S_IFLNK && OutputScratch.kind(s.path("b")) == S_IFLNK)
    }

    @Test func nullDeviceIsWrittenInPlace() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let null = try s.charDevice("null", major: 1, minor: 3)
        try OutputFile.checkWritable(null)
        try AtomicFile.write([UInt8](repeating: 7, count: 1 << 20), to: null)
        #expect(OutputScratch.kind(null) == S_IFCHR)
        #expect(s.tempFiles.isEmpty)
        #expect(try OutputFile.destination(of: null) == .device(path: null))
    }

    @Test func linkToADeviceWritesTheDevice() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let null = try s.charDevice("null", major: 1, minor: 3)
        let link = try s.symlink("out.trmg", to: "null")
        try AtomicFile.write(bytes, to: link)
        #expect(OutputScratch.kind(link) == S_IFLNK && OutputScratch.kind(null) == S_IFCHR)
        #expect(s.tempFiles.isEmpty)
    }

    @Test func fullDeviceFailsAndStaysADevice() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let full = try s.charDevice("full", major: 1, minor: 7)
        try OutputFile.checkWritable(full)  // writable until written: the failure is the write's
        let error = try #require(throws: TRMError.self) { try AtomicFile.write(bytes, to: full) }
        #expect(error.message.contains("cannot write \(full)") && error.message.contains("No space left on device"), "\(error)")
        #expect(OutputScratch.kind(full) == S_IFCHR)
        #expect(s.tempFiles.isEmpty)
    }

    @Test func fifoWithAReaderGetsTheBytesAndStaysAFifo() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let fifo = try s.fifo("pipe")
        try OutputFile.checkWritable(fifo)  // does not open it: no reader is needed yet
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }  // several pipe buffers
        let reader = FIFOReader(fifo)
        try AtomicFile.write(payload, to: fifo)
        #expect(reader.finish() == payload)
        #expect(OutputScratch.kind(fifo) == S_IFIFO)
        #expect(s.tempFiles.isEmpty)
    }

    @Test func fifoWithoutAReaderFailsWithinTheBound() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let fifo = try s.fifo("pipe")
        let start = Date()
        let error = try #require(throws: TRMError.self) {
            try bytes.withUnsafeBytes { try OutputFile.write(chunks: [$0], to: fifo, fifoReaderWait: 0.3) }
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 0.25 && elapsed < 3, "waited \(elapsed) s")
        #expect(error.message.contains("no process opened the FIFO for reading within 0.3 s"), "\(error)")
        #expect(OutputScratch.kind(fifo) == S_IFIFO)
        #expect(OutputFile.fifoReaderWait == 10)
    }

    @Test func readerThatLeavesGivesBrokenPipeNotDeath() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let fifo = try s.fifo("pipe")
        var before = sigaction()
        sigaction(SIGPIPE, nil, &before)
        let reader = FIFOReader(fifo, closeAfter: 1)
        // Without SIGPIPE ignored this would end the test process.
        let error = try #require(throws: TRMError.self) { try AtomicFile.write([UInt8](repeating: 1, count: 4 << 20), to: fifo) }
        #expect(error.message.contains("broken pipe"), "\(error)")
        _ = reader.finish()
        var after = sigaction()
        sigaction(SIGPIPE, nil, &after)
        #expect(
            unsafeBitCast(after.__sigaction_handler.sa_handler, to: Int.self)
                == unsafeBitCast(before.__sigaction_handler.sa_handler, to: Int.self),
            "SIGPIPE's action is restored")
    }

    @Test func socketAndDirectoryAreRefused() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let socketPath = s.path("sock")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in socketPath.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        let socketError = try #require(throws: TRMError.self) { try AtomicFile.write(bytes, to: socketPath) }
        #expect(socketError.message.contains("socket"), "\(socketError)")
        #expect(throws: TRMError.self) { try OutputFile.checkWritable(socketPath) }
        #expect(OutputScratch.kind(socketPath) == S_IFSOCK)

        try FileManager.default.createDirectory(atPath: s.path("d"), withIntermediateDirectories: true)
        for dir in [s.path("d"), s.path("d/"), s.path("missing/")] {
            let error = try #require(throws: TRMError.self) { try AtomicFile.write(bytes, to: dir) }
            #expect(error.message.contains("directory"), "\(error)")
        }
        #expect(OutputScratch.kind(s.path("d")) == S_IFDIR && OutputScratch.kind(s.path("missing")) == nil)
        #expect(throws: TRMError.self) { try OutputFile.checkWritable(s.path("no/such/dir/x.bin")) }
    }

    @Test(arguments: ["/dev/fd/", "/proc/self/fd/", "//dev/./fd/"])
    func descriptorAliasWritesThePipe(prefix: String) throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let alias = prefix + "\(fds[1])"
        #expect(try OutputFile.destination(of: alias) == .descriptor(fds[1]))
        try OutputFile.checkWritable(alias)
        try AtomicFile.write(bytes, to: alias)
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = read(fds[0], &buffer, buffer.count)
        #expect(Array(buffer[0..<max(n, 0)]) == bytes)
        // The read end is not writable, and a closed descriptor is not there at all.
        #expect(throws: TRMError.self) { try OutputFile.checkWritable(prefix + "\(fds[0])") }
        #expect(throws: TRMError.self) { try AtomicFile.write(bytes, to: prefix + "999") }
    }

    @Test func standardStreamsAreDescriptors() throws {
        #expect(try OutputFile.destination(of: "/dev/stdout") == .descriptor(1))
        #expect(try OutputFile.destination(of: "/dev/stderr") == .descriptor(2))
        #expect(try OutputFile.destination(of: "/proc/\(getpid())/fd/2") == .descriptor(2))
        #expect(OutputFile.descriptorAlias("/dev/stdoutx") == nil && OutputFile.descriptorAlias("/tmp/dev/fd/1") == nil)
    }

    /// A descriptor redirected into a regular file (`> out.json`) is written through, not replaced:
    /// renaming over the file would leave the bytes in an unlinked inode.
    @Test func descriptorAliasToARegularFileWritesThroughIt() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let p = s.path("redirected.txt")
        let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        let inode = OutputScratch.info(p)?.st_ino
        try AtomicFile.write(bytes, to: "/dev/fd/\(fd)")
        try AtomicFile.write(bytes, to: "/proc/self/fd/\(fd)")
        close(fd)
        #expect(OutputScratch.info(p)?.st_ino == inode)
        #expect(OutputScratch.text(p) == String(decoding: bytes + bytes, as: UTF8.self))
        #expect(s.tempFiles.isEmpty)
    }

    @Test func outputThatIsAnInputIsRefused() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let input = try s.file("m.ckpt", "weights")
        let link = try s.symlink("alias.ckpt", to: "m.ckpt")
        let hard = s.path("hard.ckpt")
        try #require(Glibc.link(input, hard) == 0)
        let error = try #require(throws: TRMError.self) { try OutputFile.checkOutputs([input], inputs: [input]) }
        #expect(error.message == "output \(input) is the same file as the input \(input); refusing to overwrite it")
        #expect(throws: TRMError.self) { try OutputFile.checkOutputs([link], inputs: [input]) }
        #expect(throws: TRMError.self) { try OutputFile.checkOutputs([input], inputs: [link]) }
        #expect(throws: TRMError.self) { try OutputFile.checkOutputs([hard], inputs: [input]) }
        #expect(throws: TRMError.self) { try OutputFile.checkOutputs([s.path("new.trmg"), hard], inputs: [s.path("x"), input]) }
        // Different files, and inputs that do not exist, pass.
        try OutputFile.checkOutputs([s.path("m.trmg"), try s.file("old.trmg", "x")], inputs: [input, s.path("missing.npy")])
        #expect(OutputScratch.text(input) == "weights")
    }

    @Test func twoOutputsOnOneFileAreRefusedButOneDeviceIsFine() throws {
        let s = try OutputScratch()
        defer { s.remove() }
        let existing = try s.file("a.json", "{}")
        let link = try s.symlink("b.json", to: "a.json")
        #expect(throws: TRMError.self) { try OutputFile.checkOutputs([existing, link], inputs: []) }
        // Not created yet, spelled two ways (one through a dangling link).
        let dangling = try s.symlink("c.json", to: "new.json")
        let error = try #require(throws: TRMError.self) { try OutputFile.checkOutputs([s.path("new.json"), dangling], inputs: []) }
        #expect(error.message.contains("are the same file"), "\(error)")
        #expect(throws: TRMError.self) { try OutputFile.checkOutputs([s.path("new.json"), s.dir + "/./new.json"], inputs: []) }
        let null = try s.charDevice("null", major: 1, minor: 3)
        try OutputFile.checkOutputs([null, null, s.path("x.json")], inputs: [null])
    }
}
