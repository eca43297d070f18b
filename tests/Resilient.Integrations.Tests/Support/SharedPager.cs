namespace Resilient.Integrations.Tests.Support;

/// <summary>
/// One sink shared by several instances (the pager on-call people carry). A type of its own, so its name differs from
/// each instance's <see cref="RecordingAlertSink"/> and shared alert claims count it apart.
/// </summary>
public sealed class SharedPager : RecordingAlertSink;
