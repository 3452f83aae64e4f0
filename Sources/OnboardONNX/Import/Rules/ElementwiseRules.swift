import Foundation
import OnboardCore
import OnboardGraph

/// Element-wise ops: arithmetic with broadcasting, comparisons, and the activations the graph has.
enum ElementwiseRules {
    static func binary(_ op: Op, floats: @escaping @Sendable (Float, Float) -> Float, integers: (@Sendable (Int64, Int64) -> Int64)?) -> ONNXOpRule {
        ONNXOpRule(fold: { node, inputs in
            [try ConstantBroadcast.map(try operands(inputs, 2, node), node: node, floats: { floats($0[0], $0[1]) },
                                       integers: integers.map { f in { f($0[0], $0[1]) } })]
        }, lower: { node, context in [.runtime(try lowerBinary(op, node, context))] })
    }

    static let add = binary(.add, floats: +, integers: { $0 &+ $1 })
    static let sub = binary(.sub, floats: -, integers: { $0 &- $1 })
    static let mul = binary(.mul, floats: *, integers: { $0 &* $1 })
    static let div = binary(.div, floats: /, integers: { $1 == 0 ? 0 : $0 / $1 })

    /// `x ^ 2` at run time is `x · x`; other exponents only on known values.
    static let pow = ONNXOpRule(fold: { node, inputs in
        [try ConstantBroadcast.map(try operands(inputs, 2, node), node: node, floats: { Foundation.pow($0[0], $0[1]) }, integers: nil)]
    }, lower: { node, context in
        guard let exponent = context.constant(node.input(1)), exponent.count == 1, exponent.floats[0] == 2 else {
            throw node.fail("only the exponent 2 is supported on a value computed at run time")
        }
        let x = try context.runtime(0, of: node)
        return [.runtime(try context.emit(.mul, [x, x], name: node.outputs[0]))]
    })

    static func unaryFold(_ body: @escaping @Sendable (Float) -> Float) -> ONNXOpRule.Fold {
        { node, inputs in
            let x = try operands(inputs, 1, node)[0]
            return [ConstantValue(shape: x.shape, floats: x.floats.map(body))]
        }
    }

    static let sqrt = ONNXOpRule(fold: unaryFold { $0.squareRoot() })
    static let erf = unary(.erf, fold: { Foundation.erf($0) })
    static let neg = ONNXOpRule(fold: { node, inputs in
        [try ConstantBroadcast.map(try operands(inputs, 1, node), node: node, floats: { -$0[0] }, integers: { 0 &- $0[0] })]
    })

    static func comparison(_ floats: @escaping @Sendable (Float, Float) -> Bool, _ integers: @escaping @Sendable (Int64, Int64) -> Bool) -> ONNXOpRule {
        ONNXOpRule(fold: { node, inputs in
            let result = try ConstantBroadcast.map(try operands(inputs, 2, node), node: node, floats: { floats($0[0], $0[1]) ? 1 : 0 },
                                                   integers: { integers($0[0], $0[1]) ? 1 : 0 })
            return [ConstantValue(shape: result.shape, integers: result.integers)]
        })
    }

    static let equal = comparison(==, ==)
    static let less = comparison(<, <)
    static let greater = comparison(>, >)

    static let `where` = ONNXOpRule(fold: { node, inputs in
        [try ConstantBroadcast.map(try operands(inputs, 3, node), node: node, floats: { $0[0] != 0 ? $0[1] : $0[2] },
                                   integers: { $0[0] != 0 ? $0[1] : $0[2] })]
    })

    static func unary(_ op: Op, fold: (@Sendable (Float) -> Float)? = nil) -> ONNXOpRule {
        ONNXOpRule(fold: fold.map(unaryFold), lower: { node, context in
            [.runtime(try context.emit(op, [try context.runtime(0, of: node)], name: node.outputs[0]))]
        })
    }

    static let relu = unary(.relu, fold: { max($0, 0) })
    static let sigmoid = unary(.sigmoid, fold: { 1 / (1 + Foundation.exp(-$0)) })

    /// `Clip` with known bounds (attributes before opset 11, inputs after; absent bounds open).
    static let clip = ONNXOpRule(lower: { node, context in
        let low = node.opset < 11 ? node.float("min", default: -.greatestFiniteMagnitude)
                                  : try context.constant(node.input(1)).map(scalar) ?? -.greatestFiniteMagnitude
        let high = node.opset < 11 ? node.float("max", default: .greatestFiniteMagnitude)
                                   : try context.constant(node.input(2)).map(scalar) ?? .greatestFiniteMagnitude
        if (node.input(1) != nil && context.constant(node.input(1)) == nil) || (node.input(2) != nil && context.constant(node.input(2)) == nil) {
            throw node.fail("its bounds must be known when the model is imported")
        }
        let x = try context.runtime(0, of: node)
        let op: Op = low == 0 && high == .greatestFiniteMagnitude ? .relu : .clip(min: low, max: high)
        return [.runtime(try context.emit(op, [x], name: node.outputs[0]))]
    })

    /// torch's hardsigmoid (alpha 1/6, beta 1/2); ONNX's default alpha 0.2 has no graph op.
    static let hardSigmoid = ONNXOpRule(lower: { node, context in
        try requireTorchHardSigmoid(node)
        return [.runtime(try context.emit(.hardSigmoid, [try context.runtime(0, of: node)], name: node.outputs[0]))]
    })

    /// `x · hardsigmoid(x)`.
    static let hardSwish = ONNXOpRule(lower: { node, context in
        let x = try context.runtime(0, of: node)
        let gate = try context.emit(.hardSigmoid, [x], name: node.outputs[0] + "/hardsigmoid")
        return [.runtime(try context.emit(.mul, [x, gate], name: node.outputs[0]))]
    })

    static let gelu = ONNXOpRule(lower: { node, context in
        let approximate = node.string("approximate", default: "none")
        guard approximate == "none" || approximate == "tanh" else { throw node.fail("approximate '\(approximate)' is not none or tanh") }
        return [.runtime(try context.emit(.gelu(approximate: approximate == "tanh"), [try context.runtime(0, of: node)], name: node.outputs[0]))]
    })

    static func operands(_ inputs: [ConstantValue?], _ count: Int, _ node: ONNXNode) throws -> [ConstantValue] {
        let present = inputs.prefix(count).compactMap { $0 }
        guard present.count == count else { throw node.fail("needs \(count) inputs") }
        return present
    }

    private static func scalar(_ value: ConstantValue) throws -> Float {
        guard value.count == 1 else { throw OnboardError.model(item: "clip bound", reason: "must hold one element") }
        return value.floats[0]
    }

    private static func requireTorchHardSigmoid(_ node: ONNXNode) throws {
        let alpha = node.float("alpha", default: 0.2), beta = node.float("beta", default: 0.5)
        guard abs(alpha - 1 / 6) < 1e-6, beta == 0.5 else {
            throw node.fail("alpha \(alpha), beta \(beta): only torch's hardsigmoid (alpha 1/6, beta 0.5) is supported")
        }
    }

    /// A binary op with at least one run-time operand: a known scalar factor becomes `scale`.
    private static func lowerBinary(_ op: Op, _ node: ONNXNode, _ context: ImportContext) throws -> ValueID {
        let output = node.outputs[0]
        let constants = (0..<2).map { context.constant(node.input($0)) }
        if op == .mul || op == .div, let factor = constants[1], factor.count == 1, factor.shape.count <= context.rank(of: node.input(0)) {
            let value = factor.floats[0]
            return try context.emit(.scale(op == .mul ? value : 1 / value), [try context.runtime(0, of: node)], name: output)
        }
        if op == .mul, let factor = constants[0], factor.count == 1, factor.shape.count <= context.rank(of: node.input(1)) {
            return try context.emit(.scale(factor.floats[0]), [try context.runtime(1, of: node)], name: output)
        }
        return try context.emit(op, [try context.runtime(0, of: node), try context.runtime(1, of: node)], name: output)
    }
}
