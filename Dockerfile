# Rescue: one image for every role (api, worker, migrate, start). Node 24 runs the TypeScript
# sources directly (type stripping), so there is no compile step; only the dashboard is built.
# docs/deployment.md. Kept valid by test/operate/deployment-files.test.ts.
FROM node:24-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, so a source change does not reinstall them. The workspace package's
# manifest is needed for `npm ci` to resolve the workspace.
COPY package.json package-lock.json ./
COPY packages/client/package.json ./packages/client/package.json
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

COPY bin ./bin
COPY src ./src
COPY packages ./packages
RUN node src/web/build.ts --force

# Listen beyond loopback inside the container; signup is then closed (create accounts with
# `docker compose run --rm api create-account ...`). Data of the embedded database, if used, in /data.
ENV HOST=0.0.0.0 PORT=4000 RESCUE_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# SIGTERM goes straight to Node (exec form, no shell): Rescue stops within 10 s (docs/operations.md).
ENTRYPOINT ["node", "--max-semi-space-size=4", "src/cli.ts"]
CMD ["start"]
