"""Conversations: messages stored before they are answered (`inbox`, `intake`), taken in
turn across replicas (`turns`), who may ask and where (`gate`), answering and posting the
reply (`replies`), and resuming a message once its sender linked their HR account
(`callback`).
"""
