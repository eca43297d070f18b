namespace Resilient.Integrations.Validation;

/// <summary>Ready-made validators and adapters.</summary>
public static class ResponseValidator
{
    /// <summary>Creates a validator from a delegate.</summary>
    /// <param name="validate">Validates a successful response.</param>
    /// <returns>The validator.</returns>
    public static IResponseValidator FromDelegate(Func<HttpResponseMessage, CancellationToken, ValueTask<ResponseValidationResult>> validate)
    {
        ArgumentNullException.ThrowIfNull(validate);
        return new DelegateResponseValidator(validate);
    }

    /// <summary>Creates a validator from a synchronous test of the response.</summary>
    /// <param name="validate">Validates a successful response.</param>
    /// <returns>The validator.</returns>
    public static IResponseValidator FromDelegate(Func<HttpResponseMessage, ResponseValidationResult> validate)
    {
        ArgumentNullException.ThrowIfNull(validate);
        return new DelegateResponseValidator((response, _) => new ValueTask<ResponseValidationResult>(validate(response)));
    }

    /// <summary>Runs validators in order; the first failure wins.</summary>
    /// <param name="validators">The validators.</param>
    /// <returns>The combined validator.</returns>
    public static IResponseValidator All(params IResponseValidator[] validators)
    {
        ArgumentNullException.ThrowIfNull(validators);
        var copy = validators.ToArray();
        return new DelegateResponseValidator(async (response, ct) =>
        {
            foreach (var validator in copy)
            {
                var result = await validator.ValidateAsync(response, ct).ConfigureAwait(false);
                if (!result.IsValid)
                {
                    return result;
                }
            }

            return ResponseValidationResult.Valid;
        });
    }

    private sealed class DelegateResponseValidator(Func<HttpResponseMessage, CancellationToken, ValueTask<ResponseValidationResult>> validate)
        : IResponseValidator
    {
        public ValueTask<ResponseValidationResult> ValidateAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
            validate(response, cancellationToken);
    }
}
