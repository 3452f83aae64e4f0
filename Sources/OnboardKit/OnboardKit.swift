// One import for a Swift user of the kit: `import OnboardKit`.
@_exported import OnboardCore
@_exported import OnboardEval
@_exported import OnboardGraph
@_exported import OnboardModels
@_exported import OnboardONNX
@_exported import OnboardPipeline
@_exported import OnboardQuant
@_exported import OnboardSensors
@_exported import OnboardText
