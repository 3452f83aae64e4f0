import OnboardCore

/// Quantized weights by constant name, shared by the INT8 executors of one model built at several
/// shapes (a sentence encoder has a graph per sequence length): each weight is quantized once.
/// Only share it between graphs whose same-named constants hold the same values.
public typealias QuantizedWeightCache = Memo<String, QuantizedWeight>
