namespace Resilient.Integrations.Tests.Support;

/// <summary>Bounded real-time waits for background work (dispatcher, scheduler, replay) to reach a state.</summary>
internal static class Eventually
{
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; i < 1_000; i++)
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        Assert.Fail("condition not reached");
    }
}
