import Foundation
import GraphIR

/// Identifies a piece of parallel work: an instruction, and for multi-phase kernels a sample and a phase.
struct PartTag {
    var index: Int
    var sample = 0
    var phase = 0
}

/// Something that can run part `part` of `parts` of a tagged piece of work (the session).
protocol PartRunner: AnyObject {
    func runPart(_ tag: PartTag, part: Int, of parts: Int)
}

/// A fixed set of worker threads for one session. Work is handed over as (runner, tag) — no
/// closures — so dispatching allocates nothing (DispatchQueue.concurrentPerform and stored closures
/// both allocate). The calling thread runs part 0 and waits for the others.
final class ThreadPool: @unchecked Sendable {
    let size: Int
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var done = pthread_cond_t()
    private var generation = 0
    private var pending = 0
    private var parts = 0
    private var tag = PartTag(index: 0)
    private var target: PartRunner?
    private var stopping = false
    private var threads: [pthread_t] = []

    /// Starts `size - 1` workers; a worker that cannot be started (no memory for its stack, a
    /// thread limit) stops the ones already running and gives a clear error.
    init(size: Int) throws {
        self.size = max(1, size)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        pthread_cond_init(&done, nil)
        for index in 1..<self.size {
            let box = Unmanaged.passRetained(WorkerStart(pool: self, index: index))
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool?.workerLoop(start.index)
                return nil
            }, box.toOpaque())
            guard rc == 0 else {
                box.release()
                shutdown()
                throw TRMError(.invalidInput, "cannot start worker thread \(index + 1) of \(self.size): \(String(cString: strerror(rc))) (memory or thread limits; try fewer --threads)")
            }
            threads.append(thread)
        }
    }

    deinit { shutdown() }

    /// Stops and joins the workers (idempotent).
    func shutdown() {
        pthread_mutex_lock(&mutex)
        let running = !stopping
        stopping = true
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
        guard running else { return }
        for t in threads { pthread_join(t, nil) }
    }

    /// Runs parts 0..<n (n ≤ size) of `tag` on `runner` and returns when all are done.
    func run(parts n: Int, _ runner: PartRunner, _ tag: PartTag) {
        let n = min(n, size)
        if n <= 1 {
            runner.runPart(tag, part: 0, of: 1)
            return
        }
        pthread_mutex_lock(&mutex)
        target = runner
        self.tag = tag
        parts = n
        pending = n - 1
        generation += 1
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
        runner.runPart(tag, part: 0, of: n)
        pthread_mutex_lock(&mutex)
        while pending > 0 { pthread_cond_wait(&done, &mutex) }
        target = nil
        pthread_mutex_unlock(&mutex)
    }

    private func workerLoop(_ index: Int) {
        var seen = 0
        pthread_mutex_lock(&mutex)
        while true {
            while generation == seen && !stopping { pthread_cond_wait(&wake, &mutex) }
            if stopping { break }
            seen = generation
            guard index < parts, let runner = target else { continue }
            let t = tag, n = parts
            pthread_mutex_unlock(&mutex)
            runner.runPart(t, part: index, of: n)
            pthread_mutex_lock(&mutex)
            pending -= 1
            if pending == 0 { pthread_cond_signal(&done) }
        }
        pthread_mutex_unlock(&mutex)
    }

    /// Workers hold the pool weakly so a session's pool is freed with it.
    private final class WorkerStart {
        weak var pool: ThreadPool?
        let index: Int
        init(pool: ThreadPool, index: Int) {
            self.pool = pool
            self.index = index
        }
    }
}
