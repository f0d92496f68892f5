import Foundation
import GraphIR
import TRMCore

/// Identifies a piece of parallel work: an instruction and one of its phases.
struct PartTag {
    var index: Int
    var phase = 0
}

/// Something that can run part `part` of `parts` of a tagged piece of work (the session).
protocol PartRunner: AnyObject {
    func runPart(_ tag: PartTag, part: Int, of parts: Int)
}

/// A fixed set of worker threads for one session. Work is handed over as (runner, tag) — no
/// closures — so dispatching allocates nothing (DispatchQueue.concurrentPerform and stored closures
/// both allocate). The calling thread runs part 0 and waits for the others.
///
/// The workers hold only the pool's `State`, never the pool, so dropping the last reference to a
/// pool stops and joins them (`deinit` calls `shutdown`); the state's mutex and conditions are
/// destroyed after that, when the pool releases the state.
final class ThreadPool: @unchecked Sendable {
    let size: Int
    private let state = State()
    private var threads: [pthread_t] = []

    /// Starts `size - 1` workers; a worker that cannot be started (no memory for its stack, a
    /// thread limit) stops the ones already running and gives a clear error.
    init(size: Int) throws {
        self.size = max(1, size)
        for index in 1..<self.size {
            let box = Unmanaged.passRetained(WorkerStart(state: state, index: index))
            var thread = pthread_t()
            let rc = pthread_create(
                &thread, nil,
                { raw in
                    let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                    start.state.workerLoop(start.index)
                    return nil
                }, box.toOpaque())
            guard rc == 0 else {
                box.release()
                shutdown()
                throw TRMError(
                    .outOfMemory,
                    "cannot start worker thread \(index + 1) of \(self.size): \(String(cString: strerror(rc))) (memory or thread limits; try fewer --threads)"
                )
            }
            threads.append(thread)
        }
    }

    deinit { shutdown() }

    /// Stops and joins the workers (idempotent).
    func shutdown() {
        guard state.stop() else { return }
        for t in threads { pthread_join(t, nil) }
    }

    /// Runs parts 0..<n (n ≤ size) of `tag` on `runner` and returns when all are done.
    func run(parts n: Int, _ runner: PartRunner, _ tag: PartTag) {
        let n = min(n, size)
        if n <= 1 {
            runner.runPart(tag, part: 0, of: 1)
            return
        }
        state.start(runner, tag, parts: n)
        runner.runPart(tag, part: 0, of: n)
        state.waitForWorkers()
    }

    /// What the caller and the workers share, guarded by `mutex`. The mutex and the conditions
    /// live in heap memory of their own (a stored `pthread_mutex_t` passed with `&` has no stable
    /// address in Swift); they are destroyed when the last reference goes, after the workers
    /// have returned.
    private final class State: @unchecked Sendable {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        var generation = 0
        var pending = 0
        var parts = 0
        var tag = PartTag(index: 0)
        /// Not retained: `run` keeps the runner alive until every part is done, so a worker never
        /// holds the last reference to it (a session freed on a worker would join that worker).
        unowned(unsafe) var target: PartRunner?
        var stopping = false

        init() {
            mutex.initialize(to: pthread_mutex_t())
            wake.initialize(to: pthread_cond_t())
            done.initialize(to: pthread_cond_t())
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(wake, nil)
            pthread_cond_init(done, nil)
        }

        deinit {
            pthread_cond_destroy(done)
            pthread_cond_destroy(wake)
            pthread_mutex_destroy(mutex)
            for p in [wake, done] { p.deinitialize(count: 1).deallocate() }
            mutex.deinitialize(count: 1).deallocate()
        }

        /// Tells the workers to stop; true the first time.
        func stop() -> Bool {
            pthread_mutex_lock(mutex)
            let running = !stopping
            stopping = true
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
            return running
        }

        func start(_ runner: PartRunner, _ tag: PartTag, parts n: Int) {
            pthread_mutex_lock(mutex)
            target = runner
            self.tag = tag
            parts = n
            pending = n - 1
            generation += 1
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
        }

        func waitForWorkers() {
            pthread_mutex_lock(mutex)
            while pending > 0 { pthread_cond_wait(done, mutex) }
            target = nil
            pthread_mutex_unlock(mutex)
        }

        func workerLoop(_ index: Int) {
            var seen = 0
            pthread_mutex_lock(mutex)
            while true {
                while generation == seen && !stopping { pthread_cond_wait(wake, mutex) }
                if stopping { break }
                seen = generation
                guard index < parts, target != nil else { continue }
                unowned(unsafe) let runner = target!
                let t = tag, n = parts
                pthread_mutex_unlock(mutex)
                runner.runPart(t, part: index, of: n)
                pthread_mutex_lock(mutex)
                pending -= 1
                if pending == 0 { pthread_cond_signal(done) }
            }
            pthread_mutex_unlock(mutex)
        }
    }

    /// What a new worker thread is handed: the shared state (retained) and its part index.
    private final class WorkerStart {
        let state: State
        let index: Int
        init(state: State, index: Int) {
            self.state = state
            self.index = index
        }
    }
}
