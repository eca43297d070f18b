namespace Resilient.Integrations.Smtp;

/// <summary>An alert e-mail could not be sent. Its message names the server and what went wrong, never a credential.</summary>
public sealed class SmtpAlertDeliveryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SmtpAlertDeliveryException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, without credentials.</param>
    public SmtpAlertDeliveryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, without credentials.</param>
    /// <param name="innerException">The cause.</param>
    public SmtpAlertDeliveryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
