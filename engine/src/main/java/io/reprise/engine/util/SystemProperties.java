package io.reprise.engine.util;

/**
 * Numeric settings from system properties. A value that is set but does not parse is a configuration error that
 * names the property, never a silent fall-back to the default.
 */
public final class SystemProperties
{
    private SystemProperties()
    {
    }

    public static int intValue(final String name, final int defaultValue)
    {
        final String value = System.getProperty(name);
        try
        {
            return null == value ? defaultValue : Integer.parseInt(value.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("property " + name + " is not an int: '" + value + "'", ex);
        }
    }

    public static long longValue(final String name, final long defaultValue)
    {
        final String value = System.getProperty(name);
        try
        {
            return null == value ? defaultValue : Long.parseLong(value.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("property " + name + " is not a long: '" + value + "'", ex);
        }
    }
}
