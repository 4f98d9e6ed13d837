/** microTVM-style sessions and executors over rpc: device-level calls by index and bytes, no name handling (api does that). */
package dev.kiln.micro;
