//! RabbitMQ transport (to be implemented).
