import TRMCore

/// What the restricted unpickler does with the opcodes that act on values: filling dicts and lists,
/// `REDUCE` of the allowed globals and `persistent_load` of storages, as `torch.save` pickles a state
/// dict (an `OrderedDict` of `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
/// backward_hooks[, metadata])`, each storage a persistent id `('storage', torch.FloatStorage, '0',
/// 'cpu', numel)`). Every tensor is checked against its storage here, so a `TorchTensorRef` that
/// comes out of the unpickler never reaches past the elements its storage declares.
extension RestrictedUnpickler.Machine {
    typealias U = RestrictedUnpickler

    /// SETITEM(S): `items` are key, value, key, value… for the dict on top of the stack.
    mutating func setItems(_ items: [PickleValue]) throws {
        guard items.count % 2 == 0 else { throw U.fail("SETITEMS with an odd number of values") }
        guard case .dict(let d) = try peek() else { throw U.fail("SETITEM(S) on \(try peek().kind), not a dict") }
        for i in stride(from: 0, to: items.count, by: 2) {
            out.dicts[d].keys.append(items[i])
            out.dicts[d].values.append(items[i + 1])
        }
    }

    /// APPEND(S) to the list on top of the stack.
    mutating func append(_ items: [PickleValue]) throws {
        guard case .list(let l) = try peek() else { throw U.fail("APPEND(S) on \(try peek().kind), not a list") }
        out.lists[l].append(contentsOf: items)
    }

    /// REDUCE: the callable below its argument tuple must be an allowed global.
    mutating func reduce() throws {
        let pair = try pop(2)
        guard case .global(let callable) = pair[0] else { throw U.fail("REDUCE calls \(pair[0].kind), not an allowed global") }
        guard case .tuple(let t) = pair[1] else { throw U.fail("REDUCE of \(callable.rawValue) with \(pair[1].kind) for arguments") }
        let args = out.tuples[t]
        switch callable {
        case .orderedDict:
            guard args.isEmpty else { throw U.fail("collections.OrderedDict is only built empty") }
            try push(.dict(Self.new(&out.dicts, PickleDict(ordered: true))))
        case .rebuildTensorV2: try push(.tensor(try rebuildTensor(args)))
        case .rebuildParameter:
            guard args.count == 3, case .tensor = args[0] else {
                throw U.fail("torch._utils._rebuild_parameter takes (tensor, requires_grad, hooks), got \(args.count) arguments")
            }
            try push(args[0])
        case .floatStorage, .bfloat16Storage, .halfStorage:
            throw U.fail("\(callable.rawValue) is only read as the type of a persistent storage id")
        }
    }

    /// The ints of a tuple (a size or a stride).
    func ints(_ v: PickleValue, _ what: String) throws -> [Int] {
        guard case .tuple(let t) = v else { throw U.fail("tensor \(what) is \(v.kind), not a tuple") }
        return try out.tuples[t].map {
            guard case .int(let i) = $0 else { throw U.fail("tensor \(what) holds \($0.kind)") }
            return i
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    mutating func rebuildTensor(_ args: [PickleValue]) throws -> Int {
        guard args.count == 6 || args.count == 7 else {
            throw U.fail("torch._utils._rebuild_tensor_v2 takes 6 or 7 arguments, got \(args.count)")
        }
        guard case .storage(let s) = args[0] else { throw U.fail("a tensor's storage is \(args[0].kind)") }
        guard case .int(let offset) = args[1] else { throw U.fail("a tensor's storage offset is \(args[1].kind)") }
        let shape = try ints(args[2], "size"), strides = try ints(args[3], "stride")
        guard case .bool = args[4] else { throw U.fail("a tensor's requires_grad is \(args[4].kind)") }
        let storage = out.storages[s]
        guard shape.count <= 8, strides.count == shape.count else {
            throw U.fail("a tensor of \(shape.count) dimensions with \(strides.count) strides (at most 8 dimensions are read)")
        }
        guard shape.allSatisfy({ (0...TensorLimits.maxDim).contains($0) }), let count = TensorLimits.product(shape),
            count <= TensorLimits.maxElements
        else { throw U.fail("tensor shape \(shape) is out of range") }
        guard strides.allSatisfy({ (0...TensorLimits.maxElements).contains($0) }) else {
            throw U.fail("tensor strides \(strides) are out of range")
        }
        guard offset >= 0, offset <= storage.count else {
            throw U.fail("storage offset \(offset) is outside storage '\(storage.key)' of \(storage.count) elements")
        }
        if count > 0 {
            // The last element the view reaches (an overflow is out of range too).
            var last: Int? = offset
            for (d, s) in zip(shape, strides) {
                let (step, o1) = (d - 1).multipliedReportingOverflow(by: s)
                let (sum, o2) = (last ?? 0).addingReportingOverflow(step)
                last = o1 || o2 || last == nil ? nil : sum
            }
            guard let last, last < storage.count else {
                throw U.fail(
                    "a tensor of shape \(shape), strides \(strides) at offset \(offset) reaches element \(last.map(String.init) ?? "past 2^63") "
                        + "of storage '\(storage.key)', which has \(storage.count)")
            }
        }
        return Self.new(&out.tensors, TorchTensorRef(storage: s, offset: offset, shape: shape, strides: strides))
    }

    /// BINPERSID: `('storage', StorageClass, key, location, numel)`. A key seen before is the same
    /// storage (tensors that share it), and must be declared the same way.
    mutating func persistentLoad(_ pid: PickleValue) throws -> Int {
        guard case .tuple(let t) = pid, out.tuples[t].count == 5, out.tuples[t][0] == .string("storage") else {
            throw U.fail("a persistent id that is not ('storage', type, key, location, numel)")
        }
        let f = out.tuples[t]
        guard case .global(let type) = f[1], let dtype = type.storageType else { throw U.fail("a storage of type \(f[1].kind)") }
        guard case .string(let key) = f[2], key.utf8.count <= 64 else { throw U.fail("a storage key that is not a short string") }
        guard case .string(let location) = f[3] else { throw U.fail("storage '\(key)' has a location that is not a string") }
        guard case .int(let count) = f[4], (0...TensorLimits.maxElements).contains(count) else {
            throw U.fail("storage '\(key)' has an element count that is out of range")
        }
        let storage = TorchStorageRef(key: key, dtype: dtype, location: location, count: count)
        if let i = storageKeys[key] {
            guard out.storages[i].dtype == dtype, out.storages[i].count == count else {
                throw U.fail("storage '\(key)' is declared twice with different types or sizes")
            }
            return i
        }
        storageKeys[key] = out.storages.count
        return Self.new(&out.storages, storage)
    }
}
