import OnboardCLI

Onboard.runAndExit()
