import Foundation
import Testing
@testable import Runtime

/// The session's thread pool on its own: every part of every run exactly once, part 0 on the
/// calling thread, `shutdown` idempotent, and a pool that is simply dropped stops and joins its
/// workers (they must not keep it alive).
@Suite struct ThreadPoolTests {
    /// Counts the parts it is asked to run, per (run, part), and where part 0 ran.
    final class Counter: PartRunner, @unchecked Sendable {
        let lock = NSLock()
        var counts: [[Int]]
        var wrongTotal = 0
        var part0OffCaller = 0
        var caller = pthread_self()

        init(runs: Int, width: Int) { counts = Array(repeating: Array(repeating: 0, count: width), count: runs) }

        func runPart(_ tag: PartTag, part: Int, of parts: Int) {
            let onCaller = pthread_equal(pthread_self(), caller) != 0
            lock.lock()
            counts[tag.index][part] += 1
            if parts != tag.phase { wrongTotal += 1 }
            if part == 0 && !onCaller { part0OffCaller += 1 }
            lock.unlock()
        }
    }

    @Test(arguments: 1...4) func everyPartOfEveryRunRunsExactlyOnce(size: Int) throws {
        let pool = try ThreadPool(size: size)
        defer { pool.shutdown() }
        let runs = 2000
        let counter = Counter(runs: runs, width: size + 2)
        counter.caller = pthread_self()
        var expected = [[Int]]()
        for run in 0..<runs {
            // 1 ... size + 2 parts asked for; the pool runs at most `size` of them.
            let asked = 1 + run % (size + 2)
            let ran = min(asked, size)
            pool.run(parts: asked, counter, PartTag(index: run, phase: ran))
            expected.append((0..<(size + 2)).map { $0 < ran ? 1 : 0 })
        }
        #expect(counter.counts == expected)
        #expect(counter.wrongTotal == 0, "a part was told the wrong number of parts")
        #expect(counter.part0OffCaller == 0, "part 0 ran off the calling thread")
    }

    @Test func shutdownTwiceIsFine() throws {
        let pool = try ThreadPool(size: 3)
        let counter = Counter(runs: 1, width: 3)
        counter.caller = pthread_self()
        pool.run(parts: 3, counter, PartTag(index: 0, phase: 3))
        pool.shutdown()
        pool.shutdown()
        #expect(counter.counts == [[1, 1, 1]])
        // One part needs no worker, so it still runs after shutdown.
        pool.run(parts: 1, counter, PartTag(index: 0, phase: 1))
        #expect(counter.counts == [[2, 1, 1]])
    }

    /// The kernel thread id of the calling thread, from /proc/thread-self ("pid/task/tid").
    static func threadID() -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard n > 0 else { return "" }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: "/").last.map(String.init) ?? ""
    }

    /// Records the thread id of each part.
    final class ThreadIDs: PartRunner, @unchecked Sendable {
        let lock = NSLock()
        var ids: [Int: String] = [:]
        func runPart(_ tag: PartTag, part: Int, of parts: Int) {
            let id = ThreadPoolTests.threadID()
            lock.lock()
            ids[part] = id
            lock.unlock()
        }
    }

    @Test func aPoolDroppedRightAfterCreationJoinsItsThreads() throws {
        weak var dropped: ThreadPool?
        do {
            let pool = try ThreadPool(size: 4)
            dropped = pool
        }
        #expect(dropped == nil, "the workers keep the pool alive")

        // The same with workers that have run: their threads are gone once the pool is.
        let recorder = ThreadIDs()
        do {
            let pool = try ThreadPool(size: 4)
            dropped = pool
            pool.run(parts: 4, recorder, PartTag(index: 0))
        }
        #expect(dropped == nil, "the workers keep the pool alive")
        let me = Self.threadID()
        let workers = (1..<4).compactMap { recorder.ids[$0] }
        #expect(workers.count == 3 && !me.isEmpty && !workers.contains(me) && Set(workers).count == 3)
        // pthread_join returns once a thread has released its stack; the kernel may drop its
        // /proc entry a moment later.
        var alive = workers
        for _ in 0..<200 where !alive.isEmpty {
            alive = alive.filter { access("/proc/self/task/\($0)", F_OK) == 0 }
            if !alive.isEmpty { usleep(10_000) }
        }
        #expect(alive.isEmpty, "worker threads \(alive) still run after the pool was freed")
    }
}
