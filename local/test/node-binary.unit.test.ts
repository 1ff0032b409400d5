import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { declaredNode, functionNode, nodeMajor } from '../src/cloud/lambda/node-binary';

describe('the Node a function runs on', () => {
  it('is the declared major from node-linux-<arch>, executable as installed', () => {
    const node = declaredNode('nodejs24.x')!;
    expect(node.version).toMatch(/^24\./);
    accessSync(node.path, constants.X_OK);
    expect(execFileSync(node.path, ['--version'], { encoding: 'utf8' }).trim()).toBe(`v${node.version}`);
  });

  it("is this process's Node when it is the declared major, or when the declared one is not installed", () => {
    const host = { path: process.execPath, version: process.versions.node };
    expect(declaredNode(`nodejs${process.versions.node.split('.')[0]}.x`)).toEqual(host);
    expect(declaredNode('nodejs18.x')).toBeUndefined();
    expect(functionNode('nodejs18.x')).toEqual(host);
    expect(nodeMajor('python3.12')).toBeUndefined();
  });

  it("does not shadow the project's Node in npm scripts (postinstall removes the package's bin link)", () => {
    expect(existsSync('node_modules/.bin/node')).toBe(false);
  });
});
