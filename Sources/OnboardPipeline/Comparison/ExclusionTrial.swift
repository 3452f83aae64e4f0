import OnboardGraph

/// An INT8 run with some ops kept in float: what that buys is measured against the full INT8 run.
/// `compare` tries the ops a user names; validation tries the worst layers with their producers.
enum ExclusionTrial {
    /// The executor of `plan` with `ops` added to the recipe's `keep_float`; `source` names the
    /// list in the error for an op the graph does not have.
    static func executor(graph: Graph, plan: QuantizationPlan, keepingFloat ops: [String], threads: Int,
                         planSource: String, source: String) throws -> Int8Executor {
        var variant = plan
        variant.recipe.keepFloat += ops
        try variant.recipe.validate(against: graph, source: source)
        return try Int8Executor(graph: graph, plan: variant, threads: threads, planSource: planSource)
    }
}
